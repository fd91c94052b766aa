/**
 * `vfolder_list`: the caller's virtual folders through the same folder
 * operations `GET /folders` uses (the manager's port), in the fields the
 * 22.03.2 client selects (`func/vfolder.py`, `output/fields.py`). Admins
 * may name another keypair's access key.
 *
 * @module
 */

import { GraphQLError } from "graphql";
import type { FolderView } from "../../actors/manager/port/mod.ts";
import {
  type Args,
  type GraphqlContext,
  noExpressions,
  page,
  requireAdmin,
} from "./resolvers.ts";

/** A folder as the GraphQL `VirtualFolder` type shows it. */
function folderRow(f: FolderView) {
  return {
    id: f.id,
    host: f.host,
    name: f.name,
    user: f.user,
    group: f.group,
    creator: f.creator,
    unmanaged_path: f.unmanaged_path,
    usage_mode: f.usage_mode,
    permission: f.permission,
    ownership_type: f.ownership_type,
    max_files: f.max_files,
    max_size: f.max_size,
    created_at: f.created_at,
    last_used: (f as { last_used?: string | null }).last_used ?? null,
    num_files: (f as { num_files?: number }).num_files ?? null,
    cur_size: f.cur_size,
    cloneable: f.cloneable,
  };
}

export const folderResolvers = {
  async vfolder_list(args: Args, ctx: GraphqlContext) {
    noExpressions(args);
    const { limit, offset } = page(args);
    const folders = ctx.deps.folders;
    if (!folders) throw new GraphQLError("Virtual folders are not enabled.");
    if (args.group_id != null) return { items: [], total_count: 0 };
    const other = args.access_key as string | null | undefined;
    let list: FolderView[];
    if (other != null && other !== ctx.caller.accessKey) {
      requireAdmin(ctx, "another keypair's folders");
      list =
        (await folders.adminList({ accessKey: other, limit: 1_000, offset: 0 }))
          .folders;
    } else {
      list = await folders.list(ctx.caller);
    }
    return {
      items: list.slice(offset, offset + limit).map(folderRow),
      total_count: list.length,
    };
  },
};
