import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { Role } from '../stream/contracts/display.js';
import { ConfigError } from '../stream/contracts/errors.js';

/** What each role may do: a viewer watches, a nurse also acknowledges, an admin also reads the audit log. */
export const ROLES: Readonly<Record<Role, { readonly acknowledge: boolean; readonly audit: boolean }>> = {
  viewer: { acknowledge: false, audit: false },
  nurse: { acknowledge: true, audit: true },
  admin: { acknowledge: true, audit: true },
};

export interface User {
  readonly name: string;
  readonly role: Role;
}

const UsersFileSchema = z.array(
  z
    .object({
      name: z.string().regex(/^[\w.@ -]{1,64}$/),
      role: z.enum(['viewer', 'nurse', 'admin']),
      /** SHA-256 of the token, hex: tokens are never stored. */
      tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
);
type UserEntry = z.infer<typeof UsersFileSchema>[number];

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** A new random token (URL-safe). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The users of a gateway and their tokens, hashed at rest (SHA-256) and compared in constant time.
 * A token is a long random string, so a fast hash suffices: there is nothing to guess a password from.
 */
export class UserDirectory {
  private readonly entries: { readonly user: User; readonly hash: Buffer }[];

  private constructor(entries: readonly UserEntry[]) {
    this.entries = entries.map((e) => ({
      user: { name: e.name, role: e.role },
      hash: Buffer.from(e.tokenSha256, 'hex'),
    }));
  }

  /** The users of a JSON file: `[{ "name", "role": "viewer"|"nurse"|"admin", "tokenSha256" }]`. */
  static fromFile(path: string): UserDirectory {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new ConfigError(`users file ${path}: cannot read it as JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
    const parsed = UsersFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(`users file ${path}: ${issue.path.join('.') || 'file'}: ${issue.message}`);
    }
    if (parsed.data.length === 0) throw new ConfigError(`users file ${path}: no users`);
    return new UserDirectory(parsed.data);
  }

  /** One user with a given token (the development default: printed at start, never stored). */
  static single(user: User, token: string): UserDirectory {
    return new UserDirectory([{ ...user, tokenSha256: sha256(token).toString('hex') }]);
  }

  /** Adds a user with a fresh token to a users file (created if missing); returns the token, shown once. */
  static addUser(path: string, user: User): string {
    let existing: UserEntry[] = [];
    try {
      existing = UsersFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new ConfigError(`users file ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (existing.some((e) => e.name === user.name))
      throw new ConfigError(`users file ${path}: ${user.name} is there already`);
    const token = newToken();
    const entry = UsersFileSchema.element.parse({ ...user, tokenSha256: sha256(token).toString('hex') });
    writeFileSync(path, `${JSON.stringify([...existing, entry], null, 2)}\n`, { mode: 0o600 });
    return token;
  }

  /** The user a token belongs to, or undefined; every entry is compared, in constant time each. */
  authenticate(token: string | undefined): User | undefined {
    if (token === undefined || token === '') return undefined;
    const hash = sha256(token);
    let found: User | undefined;
    for (const entry of this.entries) if (timingSafeEqual(entry.hash, hash)) found = entry.user;
    return found;
  }
}
