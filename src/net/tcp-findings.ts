/** The TCP layer of a diagnosis: a connection to each resolved address. */
import { dial, hostPort } from './dial.ts';
import { ms, type Report } from './report.ts';

/**
 * The TCP layer: a connection to each address (not only the first); returns those that connected. An address
 * that fails while another connects is a warning: harbor-wait, like Harbor's Go clients, tries every address
 * in turn, so it connects through the other, but each connection first meets this one.
 */
export async function diagnoseTcp(r: Report, addresses: readonly string[], port: number): Promise<string[] | undefined> {
  const results = await Promise.all(
    addresses.map(async (address) => {
      const peer = hostPort(address, port);
      const step = await r.step(async (signal, progress) => {
        const dialed = await dial({ host: address, port, lookup: r.ctx.lookup, signal, progress });
        dialed.socket.destroy();
      }, 'connect');
      return { address, peer, step };
    }),
  );
  const open = results.filter((x) => x.step.ok).map((x) => x.address);
  for (const { peer, step } of results) {
    if (step.ok) {
      r.ok('tcp', `connect ${peer}`, `connected in ${ms(step.ms)}`, step.ms);
      continue;
    }
    const what = step.error.code === 'ECONNREFUSED' ? 'refused' : step.error.code.endsWith('TIMEOUT') ? 'timed out' : step.error.code === 'ECONNRESET' ? 'reset' : step.error.code;
    if (open.length > 0) {
      const through = hostPort(open[0] as string, port);
      const wait = step.error.code.endsWith('TIMEOUT') || step.error.code === 'ETIMEDOUT' ? ' (each new connection waits on this address first: harbor-wait 250 ms before the next)' : '';
      r.warn('tcp', `connect ${peer}`, `${what} after ${ms(step.ms)}`, `${step.error.reason}; harbor-wait and Harbor's Go clients try every address and connect through ${through}${wait}, but a client that takes only the first address fails: make it listen there, or remove the address`, step.ms);
    } else {
      const others = addresses.length > 1 ? ' (every address failed)' : '';
      r.fail('tcp', `connect ${peer}`, `${what} after ${ms(step.ms)}`, `${step.error.reason}${others}`, step.ms);
    }
  }
  if (open.length === 0) {
    r.block('tcp', 'no address accepted a TCP connection');
    return undefined;
  }
  return open;
}
