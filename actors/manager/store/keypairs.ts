/**
 * Keypairs: access key + secret key credentials used to sign API requests.
 *
 * @module
 */
import type postgres from "postgres";
import { AlreadyExistsError, InUseError, NotFoundError } from "./errors.ts";
import type { Keypair } from "./types.ts";
import {
  isForeignKeyViolation,
  isUniqueViolation,
  key,
  num,
  type Row,
} from "./_row.ts";

/** Fields of {@link KeypairRepo.create}; keys are generated when omitted. */
export interface KeypairInput {
  /** 20 characters; @default {"AKIA" + 16 random upper-case letters/digits} */
  accessKey?: string;
  /** Up to 40 characters; @default {40 random letters/digits} */
  secretKey?: string;
  userId: string;
  isActive?: boolean;
  isAdmin?: boolean;
  /** @default {1000} */
  rateLimit?: number;
  /** @default {"default"} */
  resourcePolicy?: string;
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomString(alphabet: string, length: number): string {
  // Rejection sampling keeps every character equally likely.
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) {
        out.push(alphabet[b % alphabet.length]);
      }
    }
  }
  return out.join("");
}

/** A new access key in Backend.AI's shape ("AKIA" + 16 characters). */
export function generateAccessKey(): string {
  return "AKIA" + randomString(UPPER, 16);
}

/** A new 40-character secret key. */
export function generateSecretKey(): string {
  return randomString(MIXED, 40);
}

function toKeypair(r: Row): Keypair {
  return {
    accessKey: key(r.access_key),
    secretKey: String(r.secret_key),
    userId: String(r.user_id),
    isActive: Boolean(r.is_active),
    isAdmin: Boolean(r.is_admin),
    rateLimit: num(r.rate_limit),
    resourcePolicy: String(r.resource_policy),
    createdAt: r.created_at as Date,
  };
}

/** Reads and writes `keypairs`. */
export class KeypairRepo {
  constructor(private readonly sql: postgres.Sql) {}

  /** The keypair, or null. */
  async get(accessKey: string): Promise<Keypair | null> {
    const [row] = await this
      .sql`select * from keypairs where access_key = ${accessKey}`;
    return row ? toKeypair(row) : null;
  }

  /** Creates a keypair. Throws {@link AlreadyExistsError} for a taken access key. */
  async create(input: KeypairInput): Promise<Keypair> {
    const accessKey = input.accessKey ?? generateAccessKey();
    try {
      const [row] = await this.sql`
        insert into keypairs (access_key, secret_key, user_id, is_active, is_admin, rate_limit, resource_policy)
        values (${accessKey}, ${
        input.secretKey ?? generateSecretKey()
      }, ${input.userId},
                ${input.isActive ?? true}, ${input.isAdmin ?? false}, ${
        input.rateLimit ?? 1000
      },
                ${input.resourcePolicy ?? "default"})
        returning *`;
      return toKeypair(row);
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AlreadyExistsError("keypair", accessKey);
      }
      throw e;
    }
  }

  /** All keypairs, oldest first. */
  async list(): Promise<Keypair[]> {
    return (await this
      .sql`select * from keypairs order by created_at, access_key`).map(
        toKeypair,
      );
  }

  /** Activates or deactivates a keypair. Throws {@link NotFoundError}. */
  async setActive(accessKey: string, isActive: boolean): Promise<Keypair> {
    const [row] = await this.sql`
      update keypairs set is_active = ${isActive} where access_key = ${accessKey} returning *`;
    if (!row) throw new NotFoundError("keypair", accessKey);
    return toKeypair(row);
  }

  /**
   * Deletes a keypair; false when there was none. A keypair that ever had a
   * session keeps its row (the sessions' history and billing refer to it):
   * that throws {@link InUseError}; deactivate it instead.
   */
  async delete(accessKey: string): Promise<boolean> {
    try {
      const rows = await this
        .sql`delete from keypairs where access_key = ${accessKey} returning access_key`;
      return rows.length > 0;
    } catch (e) {
      if (!isForeignKeyViolation(e)) throw e;
      const [{ n }] = await this
        .sql`select count(*)::int as n from sessions where access_key = ${accessKey}`;
      throw new InUseError("keypair", accessKey, `${n} session(s) on record`);
    }
  }

  /**
   * Changes the given fields of a keypair (GraphQL `modify_keypair`);
   * omitted ones stay. Throws {@link NotFoundError}.
   */
  async update(
    accessKey: string,
    p: {
      isActive?: boolean;
      isAdmin?: boolean;
      rateLimit?: number;
      resourcePolicy?: string;
    },
  ): Promise<Keypair> {
    const [row] = await this.sql`
      update keypairs set
        is_active = coalesce(${p.isActive ?? null}::boolean, is_active),
        is_admin = coalesce(${p.isAdmin ?? null}::boolean, is_admin),
        rate_limit = coalesce(${p.rateLimit ?? null}::int, rate_limit),
        resource_policy = coalesce(${
      p.resourcePolicy ?? null
    }::text, resource_policy)
      where access_key = ${accessKey} returning *`;
    if (!row) throw new NotFoundError("keypair", accessKey);
    return toKeypair(row);
  }
}
