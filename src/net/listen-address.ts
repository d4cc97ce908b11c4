/** The address `--serve` listens on: `:8099`, `0.0.0.0:8099`, `127.0.0.1:8099`, `[::1]:8099`. Pure parsing. */

export interface ListenAddress {
  /** Undefined: every interface (IPv6 and IPv4 where the system allows). */
  readonly host: string | undefined;
  /** 0 picks a free port (the `serving` line says which). */
  readonly port: number;
}

/** Parses a listen address; returns a problem sentence instead when it is not one. */
export function parseListenAddress(text: string): ListenAddress | { problem: string } {
  const trimmed = text.trim();
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*))?:(\d{1,5})$/.exec(trimmed);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    return { problem: `"${text}" is not a listen address; write :PORT (every interface) or HOST:PORT, e.g. :8099` };
  }
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

/** `host:port` as people write it. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
