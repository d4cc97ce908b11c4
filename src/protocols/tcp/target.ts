/**
 * A bare TCP port as the registry knows it: tcp://HOST:PORT, nothing else in the URL; the check (check.ts) and
 * the diagnosis (diagnosis.ts) are loaded only when first used. Ready means only that the port accepts a
 * connection: what `nc -z` checks, for a dependency harbor-wait has no protocol for.
 */
import { ConfigError } from '../../basics/errors.ts';
import { identity, inputName, makeTarget } from '../make-target.ts';
import type { Protocol } from '../types.ts';
import { parseUrl } from '../url.ts';

export const tcpProtocol: Protocol = {
  schemes: ['tcp'],
  target(raw, from) {
    const input = inputName(raw, from);
    const url = parseUrl(raw, input);
    const host = url.hosts[0];
    if (url.userinfo) throw new ConfigError(input, 'tcp:// takes no user info');
    if (url.hosts.length !== 1 || !host) throw new ConfigError(input, 'tcp:// takes one host:port');
    if (host.port === undefined) throw new ConfigError(input, 'tcp:// needs a port, as in tcp://harbor-database:5432');
    if ((url.path !== '' && url.path !== '/') || url.query.length > 0) {
      throw new ConfigError(input, 'tcp:// takes no path or query');
    }
    const port = host.port;
    return makeTarget(
      { label: raw, from, secrets: [], identity: identity('tcp', host) },
      {
        check: async (name, ctx) => (await import('./check.ts')).createTcpCheck(name, host.host, port, ctx),
        diagnose: async (name, ctx) => (await import('./diagnosis.ts')).diagnoseTcpTarget(name, host.host, port, ctx),
      },
    );
  },
};
