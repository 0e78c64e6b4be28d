// The contract's control port: plain HTTP/1.1 with JSON, answering each operation with the SDK's
// verdict (200 ok, 422 rejected, 500 error, 501 unsupported).
import http from 'node:http';
import { createFetch } from '@meshless/client';
import { authorize, isMeshlessError } from '@meshless/core';
import { fetchJwtSvids, validateJwtSvid, workloadApiJwtBundles } from '@meshless/spiffe';

const send = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const ok = (res, body) => send(res, 200, { status: 'ok', ...body });
const rejected = (res, message) => send(res, 422, { status: 'rejected', message });
const failed = (res, message) => send(res, 500, { status: 'error', message });

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

/** Starts the control port on 127.0.0.1, port 0, for the harness's X.509 source. */
export async function startControlPort(source) {
  // The JWT bundles stream starts with the first validation: the suite's X.509-only cases serve none.
  let bundles;
  const jwtBundles = () => {
    bundles ??= workloadApiJwtBundles({ startupTimeoutMs: 5000 }).catch((error) => {
      bundles = undefined;
      throw error;
    });
    return bundles;
  };

  const routes = {
    'POST /v1/jwt/validate': async (req, res) => {
      const { token, audience } = await readJson(req);
      let source;
      try {
        source = await jwtBundles();
      } catch (error) {
        return failed(res, `no JWT bundles: ${error.message}`);
      }
      try {
        const svid = await validateJwtSvid(token, { audience, bundles: source });
        return ok(res, { spiffe_id: svid.spiffeId.toString(), claims: svid.claims });
      } catch (error) {
        if (isMeshlessError(error, 'ERR_MESHLESS_JWT_SVID_INVALID')) return rejected(res, error.message);
        return failed(res, error.message);
      }
    },
    'POST /v1/jwt/fetch': async (req, res) => {
      const { audience, spiffe_id: spiffeId } = await readJson(req);
      try {
        const svids = await fetchJwtSvids({ audience, ...(spiffeId ? { spiffeId } : {}) });
        return ok(res, {
          svids: svids.map((svid) => ({
            spiffe_id: svid.spiffeId.toString(),
            token: svid.token,
            hint: svid.hint,
          })),
        });
      } catch (error) {
        return failed(res, `${error.code ?? 'error'}: ${error.message}`);
      }
    },
    'POST /v1/x509/dial': async (req, res) => {
      const { address } = await readJson(req);
      return dial(source, address, res);
    },
    'GET /v1/info': async (_req, res) =>
      send(res, 200, { sdk: 'meshless', sdk_version: '0.1.0', language: 'javascript' }),
  };

  const server = http.createServer((req, res) => {
    const route = routes[`${req.method} ${req.url}`];
    if (!route) return send(res, 404, { status: 'error', message: `no route ${req.method} ${req.url}` });
    route(req, res).catch((error) => failed(res, error.message));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port };
}

// The meshless client connects, presenting the default SVID and authenticating the server as an
// X.509-SVID (authorizing any SPIFFE ID). Whatever the server speaks after the handshake, the verdict
// is the one meshless gave on the server's certificate.
async function dial(source, address, res) {
  let accepted;
  const fetch = createFetch({
    source,
    authorizeServer: (peer) => {
      accepted = peer;
      return authorize.any()(peer);
    },
  });
  try {
    await (await fetch(`https://${address}/`, { signal: AbortSignal.timeout(5000) })).arrayBuffer();
  } catch (error) {
    const code = codeOf(error);
    if (!accepted?.spiffeId) {
      return code?.startsWith('ERR_MESHLESS_') ? rejected(res, code) : failed(res, code ?? error.message);
    }
  } finally {
    fetch.close().catch(() => {});
  }
  return ok(res, { spiffe_id: accepted.spiffeId.toString() });
}

function codeOf(error) {
  for (let e = error; e; e = e.cause) if (typeof e.code === 'string') return e.code;
  return undefined;
}
