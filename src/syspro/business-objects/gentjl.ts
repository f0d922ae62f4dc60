/**
 * GENTJL — post a GL journal (`Transaction/Post`, reference §2.7). Root `PostGlJournal`; used for
 * a freight-cost accrual. The document layout is reconstructed from SYSPRO's sample (S9).
 *
 * UNCONFIRMED: the sign convention of `EntryAmount`. We send signed amounts, debit positive and
 * credit negative, and refuse a journal whose lines do not add up to zero before sending it.
 * The XmlOut is UNCONFIRMED too; the journal number is read from `Journal`/`JournalNumber`.
 *
 * Line texts. A `<JournalDetails>` line has two texts, `Reference` and `AdditionalReference` (SYSPRO's
 * sample, S9); it has no `Comment` element, and SYSPRO ignores unknown elements silently, so a text
 * sent under another name is lost without an error. Their lengths are UNCONFIRMED (the reference
 * gives none): we keep each within 30 characters, the width of the journal's own reference, and
 * truncate a longer text rather than refuse the journal (a freight accrual should not fail on its
 * description). Callers that need every character must fit their text to `JOURNAL_LINE_TEXT_MAX`.
 */
import type { EnetSession } from '../enet-client.js';
import { buildXml, children, formatDecimal, schemaAttributes, textAny, type XmlNode } from '../xml.js';
import { type BusinessObjectResult, type PostOptions, readXmlOut, yn } from './common.js';

export const GENTJL = 'GENTJL';

/** Longest `Reference` / `AdditionalReference` sent on a journal line (UNCONFIRMED; see above). */
export const JOURNAL_LINE_TEXT_MAX = 30;

export interface JournalLineInput {
  ledgerCode: string;
  /** Debit positive, credit negative. */
  amount: number;
  /** The line's `Reference`; cut to `JOURNAL_LINE_TEXT_MAX` characters. */
  reference?: string;
  /** The line's `AdditionalReference` (its second text); cut to `JOURNAL_LINE_TEXT_MAX` characters. */
  additionalReference?: string;
}

/** `text` cut to `max` characters (code points, so a surrogate pair is never split); trailing blanks dropped. */
function fitText(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  const chars = Array.from(text);
  return chars.length > max ? chars.slice(0, max).join('').trimEnd() : text;
}

export interface JournalInput {
  /** CCYY-MM-DD. */
  journalDate: string;
  postingYear: number;
  postingPeriod: number;
  reference?: string;
  notation?: string;
  sourceCode?: string;
  /** `N` normal (default). */
  journalType?: 'N' | 'P' | 'U' | 'S' | 'A';
  lines: JournalLineInput[];
}

export interface JournalOptions extends PostOptions {
  applyIfEntireDocumentValid?: boolean;
  /** Post the journal now (`PostJournal=Y`, default) or leave it unposted. */
  post?: boolean;
}

export interface JournalResult extends BusinessObjectResult {
  journalNumbers: string[];
  validateOnly: boolean;
}

export function buildJournalParameters(options: JournalOptions = {}): string {
  return buildXml(
    'PostGlJournal',
    {
      Parameters: {
        IgnoreWarnings: options.ignoreWarnings ?? 'W',
        ApplyIfEntireDocumentValid: yn(options.applyIfEntireDocumentValid ?? true),
        ValidateOnly: yn(options.validateOnly ?? false),
        ActionType: 'A',
        ValidatePasswords: 'N',
        IgnoreAnalysis: 'Y',
      },
    },
    { attributes: schemaAttributes('GENTJL.XSD') },
  );
}

export function buildJournal(journal: JournalInput, options: JournalOptions = {}): string {
  if (journal.lines.length < 2) throw new RangeError('a journal needs at least two lines');
  const cents = journal.lines.reduce((sum, line) => sum + Math.round(line.amount * 100), 0);
  if (cents !== 0) {
    throw new RangeError(
      `journal ${journal.reference ?? ''} does not balance: lines add up to ${cents / 100}`,
    );
  }
  return buildXml(
    'PostGlJournal',
    {
      Item: {
        JournalType: journal.journalType ?? 'N',
        JournalNumber: '',
        AuthorizeJournal: 'A',
        PostJournal: yn(options.post ?? true),
        JournalDate: journal.journalDate,
        JournalReference: journal.reference,
        Notation: journal.notation,
        PostingPeriod: journal.postingPeriod,
        PostingYear: journal.postingYear,
        SourceCode: journal.sourceCode,
        // Element order as in SYSPRO's sample: LedgerCode, Reference, EntryAmount, …, AdditionalReference.
        JournalDetails: journal.lines.map((line) => ({
          LedgerCode: line.ledgerCode,
          Reference: fitText(line.reference, JOURNAL_LINE_TEXT_MAX),
          EntryAmount: formatDecimal(line.amount, 2),
          AdditionalReference: fitText(line.additionalReference, JOURNAL_LINE_TEXT_MAX),
        })),
      },
    },
    { attributes: schemaAttributes('GENTJLDOC.XSD') },
  );
}

function collectJournalNumbers(node: XmlNode, out: string[]): void {
  const number = textAny(node, 'JournalNumber', 'Journal', 'GlJournal');
  if (number) out.push(number);
  for (const name of ['Item', 'Journal', 'JournalHeader']) {
    for (const inner of children(node, name)) if (inner !== node) collectJournalNumbers(inner, out);
  }
}

export function parseJournalOutput(xmlOut: string, validateOnly = false): JournalResult {
  const { root, outcome } = readXmlOut(GENTJL, xmlOut);
  const journalNumbers: string[] = [];
  collectJournalNumbers(root, journalNumbers);
  return { outcome, journalNumbers: [...new Set(journalNumbers)], validateOnly };
}

export async function postJournal(
  session: Pick<EnetSession, 'post'>,
  journal: JournalInput,
  options: JournalOptions = {},
): Promise<JournalResult> {
  const xmlOut = await session.post(GENTJL, buildJournalParameters(options), buildJournal(journal, options));
  return parseJournalOutput(xmlOut, options.validateOnly ?? false);
}
