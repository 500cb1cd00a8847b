/**
 * The task `bench:mesh` measures against (bench/mesh.ts): an HTTP/1.1 keep-alive server run by
 * Node inside a container (Node 24 strips the types itself). `GET /` answers "ok"; `GET /big?mb=N`
 * streams N MiB. Usage: node mesh-server.ts PORT
 */
import { createServer } from 'node:http';

const CHUNK = Buffer.alloc(64 * 1024);
const port = Number(process.argv[2] ?? '80');

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== '/big') return void res.end('ok');
  let left = Number(url.searchParams.get('mb') ?? '64') * 16; // 64 KiB chunks
  res.writeHead(200, { 'content-length': String(left * CHUNK.length) });
  const pump = (): void => {
    while (left > 0) {
      left--;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}).listen(port, () => console.log(`listening on ${port}`)).keepAliveTimeout = 60_000;
