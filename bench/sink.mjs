// A lean STARTTLS SMTP sink for the benchmark: answers at once (smtp-server
// waits 100 ms before its greeting to catch early talkers, which would dominate
// every latency figure), understands PIPELINING, discards message data, and
// counts messages. Loopback only. Not a test peer: no checks beyond framing.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

/**
 * Start the sink on 127.0.0.1:0. `cert`/`key` are PEM for STARTTLS.
 * Returns { port, received(), connections(), close() }.
 */
export async function startSink({ cert, key }) {
  const context = tls.createSecureContext({ cert, key });
  let received = 0;
  let connections = 0;
  const sockets = new Set();
  const ehlo = (secure) =>
    ['250-sink.example.test', '250-PIPELINING', '250-8BITMIME', '250-SIZE 0', ...(secure ? [] : ['250-STARTTLS']), '250 ENHANCEDSTATUSCODES'].join('\r\n') + '\r\n';

  function session(socket, secure) {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    let buf = '';
    let inData = false;
    let tail = '';
    const onData = (chunk) => {
      let s = chunk.toString('latin1');
      let out = '';
      while (s.length > 0) {
        if (inData) {
          const text = tail + s;
          const end = text.indexOf('\r\n.\r\n');
          if (end < 0) {
            tail = text.slice(-4);
            s = '';
            break;
          }
          inData = false;
          tail = '';
          received++;
          out += '250 2.0.0 Ok: queued\r\n';
          s = text.slice(end + 5);
          continue;
        }
        buf += s;
        s = '';
        let nl;
        while (!inData && (nl = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO' || verb === 'HELO') out += ehlo(secure);
          else if (verb === 'STAR' && !secure) {
            socket.write(out + '220 2.0.0 Ready to start TLS\r\n');
            out = '';
            socket.removeListener('data', onData);
            const t = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
            t.once('secure', () => {
              connections++;
              session(t, true);
            });
            t.on('error', () => socket.destroy());
            return;
          } else if (verb === 'DATA') {
            out += '354 End data with <CR><LF>.<CR><LF>\r\n';
            inData = true;
            tail = '\r\n'; // the first line may be the terminating '.'
            s = buf;
            buf = '';
          } else if (verb === 'QUIT') {
            socket.end(out + '221 2.0.0 Bye\r\n');
            return;
          } else out += '250 2.0.0 Ok\r\n';
        }
      }
      if (out) socket.write(out);
    };
    socket.on('data', onData);
  }

  const server = net.createServer((socket) => {
    socket.write('220 sink.example.test ESMTP\r\n');
    session(socket, false);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    received: () => received,
    connections: () => connections,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export const fixtureSink = (root) =>
  startSink({ cert: readFileSync(`${root}/fixtures/ca/dev-wildcard.pem`), key: readFileSync(`${root}/fixtures/ca/dev-wildcard.key`) });
