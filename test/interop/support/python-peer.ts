// Python peers on the standard ssl module: an http.client request with an SSLContext that loads a
// client certificate, and an http.server that requires one (CERT_REQUIRED) and echoes its URI SAN.

/** argv: host port path ca [cert key]. Prints {status, body, version, cipher} as JSON. */
export const PYTHON_CLIENT = `
import http.client, json, ssl, sys
host, port, path, ca = sys.argv[1:5]
cert = sys.argv[5] if len(sys.argv) > 5 else None
key = sys.argv[6] if len(sys.argv) > 6 else None
context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
context.minimum_version = ssl.TLSVersion.TLSv1_2
if cert:
    context.load_cert_chain(cert, key)
connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
connection.connect()
version, cipher = connection.sock.version(), connection.sock.cipher()[0]
connection.request('GET', path, headers={'connection': 'close'})
response = connection.getresponse()
body = response.read().decode()
print(json.dumps({'status': response.status, 'body': body, 'version': version, 'cipher': cipher}))
`;

/** argv: ca cert key. Listens on 127.0.0.1, port 0; prints "LISTENING <port>"; echoes the client's URI SAN. */
export const PYTHON_SERVER = `
import json, ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
ca, cert, key = sys.argv[1:4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.verify_mode = ssl.CERT_REQUIRED
context.load_verify_locations(cafile=ca)
context.load_cert_chain(cert, key)

class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        peer_cert = self.connection.getpeercert()
        uris = [value for kind, value in peer_cert.get('subjectAltName', ()) if kind == 'URI']
        body = json.dumps({
            'server': 'python',
            'peer': uris[0] if uris else '',
            'version': self.connection.version(),
            'cipher': self.connection.cipher()[0],
        }).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
print('LISTENING', server.server_address[1], flush=True)
server.serve_forever()
`;
