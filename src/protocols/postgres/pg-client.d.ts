/**
 * Types for node-postgres's Client imported from its own file (check.ts): the package index would
 * also load its Pool and the native-binding probe. Only what harbor-wait uses is declared.
 */
declare module 'pg/lib/client.js' {
  import type { EventEmitter } from 'node:events';
  import type { Duplex } from 'node:stream';
  import type { ConnectionOptions } from 'node:tls';

  interface ClientConfig {
    host: string;
    port: number;
    user: string;
    database: string;
    /** Called when the server asks for a password; a rejection fails the login with that error. */
    password: () => Promise<string>;
    application_name: string;
    client_encoding: string;
    sslnegotiation: 'postgres';
    /** false, or the options for tls.connect after the server has accepted the SSL request. */
    ssl: false | ConnectionOptions;
    /** The socket to speak on; pg calls its connect() and waits for 'connect'. */
    stream: () => Duplex;
    keepAlive: boolean;
    connectionTimeoutMillis: number;
  }

  interface Connection extends EventEmitter {
    stream: Duplex;
  }

  class Client extends EventEmitter {
    constructor(config: ClientConfig);
    readonly connection: Connection;
    /** The parameters the startup message is made from. */
    readonly connectionParameters: Record<string, unknown>;
    connect(): Promise<Client>;
    query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  }
  export = Client;
}
