// Ask the OS for a free loopback TCP port (listen(0)), never a fixed list: parallel test files
// and other engineers' suites share the machine.
import net from 'node:net';

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || address === null) {
        server.close();
        reject(new Error('listen(0) returned no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
