import { afterAll } from 'vitest';
import { stopAll } from './processes.ts';

afterAll(stopAll);
