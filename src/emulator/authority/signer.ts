import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** The authority's token-signing key (RS256, like Entra ID) and its JWKS. */
const VERIFIED_KEPT = 256;

export class TokenSigner {
  private readonly verified = new Map<string, JWTPayload>();

  private constructor(
    private readonly privateKey: KeyPair['privateKey'],
    readonly publicKey: KeyPair['publicKey'],
    readonly jwk: JWK,
  ) {}

  static async create(): Promise<TokenSigner> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID().replace(/-/g, '').slice(0, 27);
    const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
    return new TokenSigner(privateKey, publicKey, jwk);
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.jwk] };
  }

  async sign(claims: JWTPayload): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.jwk.kid! })
      .sign(this.privateKey);
  }

  /**
   * Verifies the signature only; the caller checks audience, issuer and lifetime against its own rules. A
   * token already verified is answered from memory: the key never changes, so the same text verifies the same
   * way every time, and a client sends one token for an hour of requests. Without this, checking the RSA
   * signature was a quarter of the emulator's time per request, which a benchmark counts against the client
   * sharing its process (Dataverse checks tokens on its own servers).
   */
  async verify(token: string): Promise<JWTPayload> {
    const known = this.verified.get(token);
    if (known) return known;
    const { payload } = await jwtVerify(token, this.publicKey, {
      algorithms: ['RS256'],
      clockTolerance: Number.MAX_SAFE_INTEGER,
    });
    // bounded: tests mint many tokens; the oldest verified is forgotten first (a Map keeps insertion order)
    if (this.verified.size >= VERIFIED_KEPT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, Object.freeze(payload));
    return payload;
  }
}
