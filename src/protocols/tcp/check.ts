/** TCP readiness: the connection opens (and is closed at once). */
import { dial } from '../../net/dial.ts';
import type { Check, CheckContext, Ready } from '../types.ts';

export function createTcpCheck(label: string, host: string, port: number, ctx: CheckContext): Check {
  return {
    target: label,
    async attempt(signal, progress): Promise<Ready> {
      const { socket, address } = await dial({ host, port, lookup: ctx.lookup, signal, progress });
      socket.destroy();
      return { address };
    },
  };
}
