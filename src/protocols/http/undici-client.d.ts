/**
 * Types for undici's Client imported from its own file (check.ts): the package index, which the
 * published types describe, would load all of undici. The file exports the same class as the index.
 */
declare module 'undici/lib/dispatcher/client.js' {
  import { Client } from 'undici';
  export default Client;
}
