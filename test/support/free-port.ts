/** A TCP port free on `host` now: listen on port 0, read the port, close. */
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error(`no TCP port on ${host}`));
      server.close(() => resolve(address.port));
    });
  });
}
