// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata
// polyfill loaded first. Every module of this package imports @peculiar/x509 through this file,
// so users never have to know.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
