/**
 * "Is the dispatch note we posted for key K in SYSPRO?": the check a SORTDN writer runs when its
 * job is in doubt (the post went out and its answer was lost), before it posts again.
 *
 * SORTDN's answer carries the note number, so a lost answer leaves us without it, and SORQDN reads
 * a note by number only. So the note must carry our reference: a `DispatchComments` line
 * `ml-connector <key>` (`dispatchNoteReference`; a comment line, because UserDefined1/2 hold carrier
 * and tracking, DESIGN "Shipment write-back", and are only 30 characters). The check reads the sales
 * order with SORQRY, takes the last dispatch note of each merchandise line (`MLastDelNote`), reads
 * each of those notes with SORQDN and looks for our reference in its comments and user fields.
 *
 * Limit (written down in docs/decisions.md "In-doubt writes"): SORQRY names only the LAST note of a
 * line. If another note was posted on every line ours touched between our lost post and this check,
 * ours is hidden behind it; that needs a second dispatch of the same lines of the same order within
 * one retry interval. SORQDL (list of dispatch notes) or an OData read of the dispatch-note table
 * would close it once their shapes are confirmed.
 */
import type { InDoubtCheck } from '../engine/handler.js';
import { queryDispatchNote } from '../syspro/business-objects/sorqdn.js';
import { querySalesOrder } from '../syspro/business-objects/sorqry.js';
import type { EnetSession } from '../syspro/enet-client.js';

/** The comment line that identifies our dispatch note for `key` (at most 50 characters in SYSPRO). */
export function dispatchNoteReference(key: string): string {
  return `ml-connector ${key}`;
}

/** SYSPRO pads numeric keys with zeros in some places (`000000000000074`): compare without them. */
function sameKey(a: string, b: string): boolean {
  const strip = (k: string) => k.trim().replace(/^0+(?=.)/, '');
  return strip(a) === strip(b);
}

export interface FoundDispatchNote {
  dispatchNote: string;
  salesOrder: string;
}

/**
 * `done` with the note when a dispatch note of `salesOrder` carries `reference` (in its
 * comments or user fields), `absent` when none of the order's latest notes does, `unknown` when
 * the order itself cannot be found (nothing to compare with: the operator must look).
 */
export async function findDispatchNoteByReference(
  session: Pick<EnetSession, 'query'>,
  input: { salesOrder: string; reference: string },
): Promise<InDoubtCheck<FoundDispatchNote>> {
  const order = await querySalesOrder(session, {
    salesOrder: input.salesOrder,
    options: { includeCompletedLines: true },
  });
  if (!order.found) {
    return {
      state: 'unknown',
      reason: `sales order ${input.salesOrder} was not found in SYSPRO, so whether dispatch note "${input.reference}" was posted cannot be checked`,
    };
  }
  const candidates: string[] = [];
  for (const line of order.lines) {
    const note = line.lastDispatchNote?.trim();
    if (note && !candidates.some((c) => sameKey(c, note))) candidates.push(note);
  }
  for (const candidate of candidates) {
    const note = await queryDispatchNote(session, { dispatchNote: candidate });
    if (!note.found) continue;
    const texts = [...note.comments, note.userField1 ?? '', note.userField2 ?? ''].map((t) => t.trim());
    if (texts.includes(input.reference.trim())) {
      return {
        state: 'done',
        value: {
          dispatchNote: note.dispatchNote ?? candidate,
          salesOrder: order.salesOrder ?? input.salesOrder,
        },
      };
    }
  }
  return { state: 'absent' };
}
