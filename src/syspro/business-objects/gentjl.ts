/**
 * GENTJL — post a GL journal (`Transaction/Post`, reference §2.7). Root `PostGlJournal`; used for
 * a freight-cost accrual. The document layout is reconstructed from SYSPRO's sample (S9).
 *
 * UNCONFIRMED: the sign convention of `EntryAmount`. We send signed amounts, debit positive and
 * credit negative, and refuse a journal whose lines do not add up to zero before sending it.
 * The XmlOut is UNCONFIRMED too; the journal number is read from `Journal`/`JournalNumber`.
 */
import type { EnetSession } from '../enet-client.js';
import { buildXml, children, formatDecimal, schemaAttributes, textAny, type XmlNode } from '../xml.js';
import { type BusinessObjectResult, type PostOptions, readXmlOut, yn } from './common.js';

export const GENTJL = 'GENTJL';

export interface JournalLineInput {
  ledgerCode: string;
  /** Debit positive, credit negative. */
  amount: number;
  reference?: string;
  comment?: string;
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
        JournalDetails: journal.lines.map((line) => ({
          LedgerCode: line.ledgerCode,
          Reference: line.reference,
          EntryAmount: formatDecimal(line.amount, 2),
          Comment: line.comment,
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
