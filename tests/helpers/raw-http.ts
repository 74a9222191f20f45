/**
 * A POST whose body is streamed with Transfer-Encoding: chunked (no Content-Length), over a plain socket, reading the
 * response while the body is still being sent: how a streaming client meets a server that answers early (413) and
 * stops reading. Node's http client gives up on such a request with "socket hang up" before it reads the answer.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function postChunked(url: string, headers: Record<string, string>, body: Buffer, chunkSize = 64 * 1024): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      socket.destroy();
      fn();
    };
    const tryParse = () => {
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const hs = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(hs['content-length'] ?? NaN);
      const rest = received.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      if (Number.isFinite(length) && rest.length < length) return;
      finish(() => resolve({ status: Number(statusLine!.split(' ')[1]), headers: hs, body: rest.toString('utf8') }));
    };
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      tryParse();
    });
    // The server may close while the body is still being sent (EPIPE/ECONNRESET): what it answered is what counts.
    socket.on('error', (err) => (received.length ? tryParse() : finish(() => reject(err))));
    socket.on('close', () => finish(() => reject(new Error(`connection closed without a complete response: ${JSON.stringify(received.toString('latin1').slice(0, 200))}`))));
    socket.on('connect', () => {
      const head = [`POST ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Transfer-Encoding: chunked', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      for (let i = 0; i < body.length && !socket.destroyed; i += chunkSize) {
        const part = body.subarray(i, i + chunkSize);
        socket.write(`${part.length.toString(16)}\r\n`);
        socket.write(part);
        socket.write('\r\n');
      }
      if (!socket.destroyed) socket.write('0\r\n\r\n');
    });
  });
}
