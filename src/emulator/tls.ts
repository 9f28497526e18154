import { generate } from 'selfsigned';

export interface TlsMaterial {
  /** PEM certificate: self-signed, so it is also the trust anchor a client passes as `ca` */
  cert: string;
  key: string;
}

/** A certificate for 127.0.0.1 and localhost, made at start with Node's WebCrypto (no openssl needed). */
export async function createServerCertificate(host: string): Promise<TlsMaterial> {
  const isIp = /^[\d.]+$|:/.test(host);
  const altNames = [
    { type: 7 as const, ip: '127.0.0.1' },
    { type: 2 as const, value: 'localhost' },
    ...(host !== '127.0.0.1' && host !== 'localhost'
      ? [isIp ? { type: 7 as const, ip: host } : { type: 2 as const, value: host }]
      : []),
  ];
  const pems = await generate([{ name: 'commonName', value: 'dynamics-mcp emulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 30 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** An RSA client certificate (private key + certificate in one PEM) for certificate credentials. */
export async function createClientCertificate(commonName: string): Promise<{ pem: string; cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 365 * 86_400_000),
  });
  return { pem: `${pems.private}\n${pems.cert}`, cert: pems.cert, key: pems.private };
}
