/** Links between a SYSPRO key and a ShipStation id, with the hash of what was last pushed. */
import type { Kysely } from 'kysely';
import type { Database } from './database.js';

export interface Link {
  connection: string;
  entityType: string;
  sysproKey: string;
  shipstationId: string | null;
  lastHash: string | null;
  lastPushedAt: number | null;
  /** `open`, `closed` or `invalid` (migration 0006); an `order.problem` link may be `resolved`. */
  state: string | null;
}

/**
 * A link to insert or update. On an update, `shipstationId`, `lastHash` and `state` left undefined
 * keep what the link has (null clears them); `pushedAt` defaults to now.
 */
export interface SaveLink {
  connection: string;
  entityType: string;
  sysproKey: string;
  shipstationId?: string | null;
  lastHash?: string | null;
  pushedAt?: number;
  state?: string | null;
}

export async function saveLink(db: Kysely<Database>, link: SaveLink, now = Date.now()): Promise<void> {
  // Only what is given is changed: a close ({ state: 'closed' }) keeps the ShipStation id, which a
  // fulfillment (no orderKey on it) of the order is found by (shipments.ts orderKeysByOrderId).
  const changes = {
    ...(link.shipstationId === undefined ? {} : { shipstation_id: link.shipstationId }),
    ...(link.lastHash === undefined ? {} : { last_hash: link.lastHash }),
    last_pushed_at: link.pushedAt ?? now,
    updated_at: now,
    ...(link.state === undefined ? {} : { state: link.state }),
  };
  await db
    .insertInto('links')
    .values({
      connection: link.connection,
      entity_type: link.entityType,
      syspro_key: link.sysproKey,
      shipstation_id: null,
      last_hash: null,
      ...changes,
    })
    .onConflict((oc) => oc.columns(['connection', 'entity_type', 'syspro_key']).doUpdateSet(changes))
    .execute();
}

function toLink(row: Database['links']): Link {
  return {
    connection: row.connection,
    entityType: row.entity_type,
    sysproKey: row.syspro_key,
    shipstationId: row.shipstation_id,
    lastHash: row.last_hash,
    lastPushedAt: row.last_pushed_at,
    state: row.state ?? null,
  };
}

export async function findLink(
  db: Kysely<Database>,
  connection: string,
  entityType: string,
  sysproKey: string,
): Promise<Link | undefined> {
  const row = await db
    .selectFrom('links')
    .selectAll()
    .where('connection', '=', connection)
    .where('entity_type', '=', entityType)
    .where('syspro_key', '=', sysproKey)
    .executeTakeFirst();
  return row ? toLink(row) : undefined;
}

/** The links for many keys at once (for diffing a page of orders against what was pushed). */
export async function findLinks(
  db: Kysely<Database>,
  connection: string,
  entityType: string,
  sysproKeys: string[],
): Promise<Map<string, Link>> {
  const out = new Map<string, Link>();
  for (let i = 0; i < sysproKeys.length; i += 500) {
    const chunk = sysproKeys.slice(i, i + 500);
    if (chunk.length === 0) continue;
    const rows = await db
      .selectFrom('links')
      .selectAll()
      .where('connection', '=', connection)
      .where('entity_type', '=', entityType)
      .where('syspro_key', 'in', chunk)
      .execute();
    for (const row of rows) out.set(row.syspro_key, toLink(row));
  }
  return out;
}

export async function findLinkByShipStationId(
  db: Kysely<Database>,
  connection: string,
  entityType: string,
  shipstationId: string,
): Promise<Link | undefined> {
  const row = await db
    .selectFrom('links')
    .selectAll()
    .where('connection', '=', connection)
    .where('entity_type', '=', entityType)
    .where('shipstation_id', '=', shipstationId)
    .executeTakeFirst();
  return row ? toLink(row) : undefined;
}

/** Keys of one entity type in a state (e.g. the orders still open in ShipStation), for follow-ups. */
export async function listLinkKeys(
  db: Kysely<Database>,
  connection: string,
  entityType: string,
  state: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('links')
    .select('syspro_key')
    .where('connection', '=', connection)
    .where('entity_type', '=', entityType)
    .where('state', '=', state)
    .orderBy('syspro_key')
    .execute();
  return rows.map((r) => r.syspro_key);
}

/** The links of one entity type (in one state when given), in key order. */
export async function listLinks(
  db: Kysely<Database>,
  connection: string,
  entityType: string,
  state?: string,
): Promise<Link[]> {
  let query = db
    .selectFrom('links')
    .selectAll()
    .where('connection', '=', connection)
    .where('entity_type', '=', entityType);
  if (state !== undefined) query = query.where('state', '=', state);
  const rows = await query.orderBy('syspro_key').execute();
  return rows.map(toLink);
}
