// A Go peer, standard library only: `client` makes one HTTPS request with a client certificate and
// Go's strict crypto/x509 verification of the server; `server` requires and verifies client
// certificates (tls.RequireAndVerifyClientCert) and echoes the peer's URI SAN. Compiled by the test
// with Debian's golang-go.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectSuccess, requireTool, run } from './tools.js';

const GO_SOURCE = String.raw`package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

func pool(caFile string) *x509.CertPool {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		fail("read ca: %v", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		fail("no certificates in %s", caFile)
	}
	return p
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	url := fs.String("url", "", "https URL")
	ca := fs.String("ca", "", "trust bundle")
	cert := fs.String("cert", "", "client certificate chain")
	key := fs.String("key", "", "client key")
	fs.Parse(args)
	config := &tls.Config{RootCAs: pool(*ca), MinVersion: tls.VersionTLS12}
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			fail("load key pair: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: config}}
	res, err := c.Get(*url)
	if err != nil {
		fail("request: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		fail("read body: %v", err)
	}
	out, _ := json.Marshal(map[string]interface{}{
		"status":  res.StatusCode,
		"body":    string(body),
		"version": versionName(res.TLS.Version),
		"cipher":  tls.CipherSuiteName(res.TLS.CipherSuite),
	})
	fmt.Println(string(out))
}

func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	ca := fs.String("ca", "", "trust bundle for client certificates")
	cert := fs.String("cert", "", "server certificate chain")
	key := fs.String("key", "", "server key")
	fs.Parse(args)
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fail("load key pair: %v", err)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool(*ca),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	listener, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		fail("listen: %v", err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := ""
		if len(r.TLS.PeerCertificates) > 0 && len(r.TLS.PeerCertificates[0].URIs) > 0 {
			peer = r.TLS.PeerCertificates[0].URIs[0].String()
		}
		w.Header().Set("content-type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"server":  "go",
			"peer":    peer,
			"version": versionName(r.TLS.Version),
			"cipher":  tls.CipherSuiteName(r.TLS.CipherSuite),
		})
	})
	fmt.Printf("LISTENING %d\n", listener.Addr().(*net.TCPAddr).Port)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fail("serve: %v", srv.Serve(listener))
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: peer client|server ...")
	}
	switch os.Args[1] {
	case "client":
		client(os.Args[2:])
	case "server":
		server(os.Args[2:])
	default:
		fail("unknown mode %s", os.Args[1])
	}
}
`;

/**
 * Writes the Go peer into `dir` and builds it with the `go` of golang-go (standard library only, no
 * module download), returning the binary's path. The build cache is shared under the OS temp dir.
 */
export async function buildGoPeer(dir: string): Promise<string> {
  const go = requireTool('go');
  const source = join(dir, 'go-peer');
  await mkdir(source, { recursive: true });
  await writeFile(join(source, 'main.go'), GO_SOURCE);
  const binary = join(source, 'peer');
  const cache = join(tmpdir(), 'meshless-interop-go-cache');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: source,
    GOCACHE: cache,
    GOPATH: join(source, 'gopath'),
    GO111MODULE: 'off',
    GOFLAGS: '',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  expectSuccess(
    await run(go, ['build', '-o', binary, 'main.go'], { cwd: source, env, timeoutMs: 110_000 }),
    'go build of the Go interop peer',
  );
  return binary;
}
