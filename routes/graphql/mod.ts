/**
 * Backend.AI's admin GraphQL API: `POST /admin/gql` (API v6.20210815 and
 * later) and `POST /admin/graphql` (older clients), body
 * `{"query", "variables"?, "operation_name" | "operationName"?}`.
 *
 * - `/admin/gql` answers 200 with GraphQL's own `{"data", "errors"?}`; the
 *   Python SDK raises on a non-empty `errors`.
 * - `/admin/graphql` answers 200 with the `data` object alone, or 400
 *   problem `graphql-error` with the errors in `data`.
 * - Either answers 403 insufficient-privilege, as the REST admin API does,
 *   when a user keypair asks for an admin-only field or any mutation;
 *   nothing was changed then (resolvers check privilege before acting).
 *
 * Introspection is off, as in Backend.AI's default configuration, and a
 * document may name at most {@link MAX_ROOT_FIELDS} root fields.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import {
  execute,
  type ExecutionResult,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate as validateDocument,
} from "graphql";
import { requireAuth } from "../auth.ts";
import { callerOf } from "../caller.ts";
import type { GatewayEnv } from "../context.ts";
import type { GatewayDeps } from "../../actors/manager/port/mod.ts";
import { normalizeKeys, rawParams, validate } from "../params.ts";
import { InsufficientPrivilege, ProblemError, toProblem } from "../problems.ts";
import { adminSchema } from "./schema.ts";
import { type GraphqlContext, Refused, rootValue } from "./resolvers.ts";
import { folderResolvers } from "./vfolders.ts";

export { adminSchema, SCHEMA_SDL } from "./schema.ts";

/** Root fields one document may select (each may cost a store query). */
export const MAX_ROOT_FIELDS = 20;

const bodySchema = z.object({
  query: z.string().min(1).max(100_000),
  variables: z.record(z.string(), z.unknown()).optional(),
  operationName: z.string().optional(),
});

/** Where unexpected resolver failures are reported. */
export type GraphqlLogger = (msg: string, err: unknown) => void;

/**
 * Runs one GraphQL request for `ctx.caller`. Throws InsufficientPrivilege
 * when any error is a privilege refusal; other failures are GraphQL errors
 * in the result (unexpected ones logged and said generically).
 */
export async function runGraphql(
  ctx: GraphqlContext,
  req: z.output<typeof bodySchema>,
  log: GraphqlLogger = (msg, err) => console.error(`graphql: ${msg}`, err),
): Promise<ExecutionResult> {
  const schema = adminSchema();
  let document;
  try {
    document = parse(req.query, { maxTokens: 10_000 });
  } catch (err) {
    if (err instanceof GraphQLError) return { errors: [err] };
    throw err;
  }
  const errors = validateDocument(schema, document, [
    ...specifiedRules,
    NoSchemaIntrospectionCustomRule,
  ]);
  if (errors.length > 0) return { errors };
  const ops = document.definitions.filter((d): d is OperationDefinitionNode =>
    d.kind === Kind.OPERATION_DEFINITION
  );
  for (const op of ops) {
    if (op.selectionSet.selections.length > MAX_ROOT_FIELDS) {
      return {
        errors: [
          new GraphQLError(
            `At most ${MAX_ROOT_FIELDS} root fields per operation.`,
          ),
        ],
      };
    }
  }
  const result = await execute({
    schema,
    document,
    rootValue: { ...rootValue, ...folderResolvers },
    contextValue: ctx,
    variableValues: req.variables,
    operationName: req.operationName,
  });
  const refused = result.errors?.find((e) =>
    e.originalError instanceof Refused
  );
  if (refused) throw new InsufficientPrivilege(refused.message);
  if (!result.errors) return result;
  return {
    ...result,
    errors: result.errors.map((e) => {
      const cause = e.originalError;
      if (!cause || cause instanceof GraphQLError) return e;
      const problem = toProblem(cause);
      if (problem) {
        return new GraphQLError(problem.msg ?? problem.title, {
          nodes: e.nodes,
          path: e.path,
          extensions: {
            type: problem.toJSON().type,
            status: problem.status,
          },
        });
      }
      log("resolver failed", cause);
      return new GraphQLError("Internal server error.", {
        nodes: e.nodes,
        path: e.path,
      });
    }),
  };
}

/** Mounts `POST /admin/gql` and `POST /admin/graphql`. */
export function mountGraphql(
  app: Hono<GatewayEnv>,
  deps: GatewayDeps,
  log?: GraphqlLogger,
): void {
  // `operation_name` becomes `operationName` (normalizeKeys camel-cases).
  const request = (c: Context<GatewayEnv>) => {
    const req = validate(bodySchema, normalizeKeys(rawParams(c)));
    return runGraphql({ deps, caller: callerOf(c) }, req, log);
  };

  app.post("/admin/gql", requireAuth(), async (c) => {
    const result = await request(c);
    return c.json(result);
  });

  app.post("/admin/graphql", requireAuth(), async (c) => {
    const result = await request(c);
    if (result.errors?.length) {
      throw new ProblemError("graphql-error", {
        data: result.errors.map((e) => e.toJSON()),
      });
    }
    return c.json(result.data ?? null);
  });
}
