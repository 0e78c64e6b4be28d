import { isMeshlessError } from '@meshless/core';
import { describe, expect, it } from 'vitest';
import { parseWorkloadApiAddress } from '../src/index.js';

describe('parseWorkloadApiAddress', () => {
  it.each([
    ['unix:///run/spire/agent.sock', 'unix:///run/spire/agent.sock', '/run/spire/agent.sock'],
    ['unix:/run/spire/agent.sock', 'unix:///run/spire/agent.sock', '/run/spire/agent.sock'],
    ['unix:///tmp/with%20space.sock', 'unix:///tmp/with space.sock', '/tmp/with space.sock'],
    ['tcp://127.0.0.1:8081', 'ipv4:127.0.0.1:8081', undefined],
    ['tcp://[::1]:8081', 'ipv6:[::1]:8081', undefined],
  ])('accepts %s', (address, target, path) => {
    const parsed = parseWorkloadApiAddress(address);
    expect(parsed.target).toBe(target);
    expect(parsed.path).toBe(path);
    expect(parsed.address).toBe(address);
  });

  it.each([
    ['', 'missing'],
    ['/run/spire/agent.sock', 'not-a-uri'],
    ['unix:run/agent.sock', 'unix-path'],
    ['unix:///', 'unix-path'],
    ['unix://host/run/agent.sock', 'unix-host'],
    ['unix:///run/agent.sock?x=1', 'query'],
    ['unix:///run/agent.sock#frag', 'fragment'],
    ['tcp://user@127.0.0.1:8081', 'userinfo'],
    ['tcp://localhost:8081', 'tcp-ip'],
    ['tcp://127.0.0.1', 'tcp-port'],
    ['tcp://127.0.0.1:8081/path', 'tcp-path'],
    ['tcp://127.0.0.1:99999', 'not-a-uri'],
    ['http://127.0.0.1:8081', 'scheme'],
  ])('refuses %j (%s)', (address, rule) => {
    let error: unknown;
    try {
      parseWorkloadApiAddress(address);
    } catch (err) {
      error = err;
    }
    expect(isMeshlessError(error, 'ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID')).toBe(true);
    expect((error as { context: { rule: string } }).context.rule).toBe(rule);
  });

  it('reads SPIFFE_ENDPOINT_SOCKET when no address is given', () => {
    const saved = process.env.SPIFFE_ENDPOINT_SOCKET;
    try {
      process.env.SPIFFE_ENDPOINT_SOCKET = 'unix:///run/spire/sockets/agent.sock';
      expect(parseWorkloadApiAddress().path).toBe('/run/spire/sockets/agent.sock');
    } finally {
      if (saved === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET;
      else process.env.SPIFFE_ENDPOINT_SOCKET = saved;
    }
  });
});
