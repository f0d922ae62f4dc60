/**
 * GENTJL, GL journal posting (reference §2.7), root `PostGlJournal`: `<Item>` per journal with
 * JournalDate, JournalReference, Notation, PostingPeriod, PostingYear and repeating
 * `<JournalDetails>` (LedgerCode, Reference, EntryAmount, AdditionalReference). Amounts are signed
 * (debit positive; UNCONFIRMED) and must balance. The XmlOut layout is UNCONFIRMED.
 *
 * A line keeps its two texts, `Reference` and `AdditionalReference`, cut to 30 characters (their
 * lengths are UNCONFIRMED). Like SYSPRO, any other element (a `<Comment>`, say) is ignored without
 * an error, so a client that sends its text under the wrong name finds it missing from GenJnlDetail.
 */
import { GEN_JNL_CTL_DEFAULTS, GEN_JNL_DETAIL_DEFAULTS, type Row } from '../tables.js';
import { fitColumn } from '../text.js';
import { child, children, el, flagOf, isSysproDate, padCount, parseSysproNumber, textOf } from '../xml.js';
import { answerPost, type BusinessObject, type ElementError, ERRORS, todayOf } from './common.js';

export const gentjl: BusinessObject = {
  name: 'GENTJL',
  methods: ['Transaction/Post'],
  handle(ctx, { xmlParameters, xmlIn }) {
    const p = child(xmlParameters, 'Parameters') ?? xmlParameters;
    const validateOnly = flagOf(p, 'ValidateOnly', false);
    const entireDocument = flagOf(p, 'ApplyIfEntireDocumentValid', false);
    const today = todayOf(ctx.now());
    const plans: Array<{ errors: ElementError[]; apply: () => Row }> = [];
    for (const item of children(xmlIn, 'Item')) {
      const errors: ElementError[] = [];
      const date = textOf(item, 'JournalDate') || today;
      if (!isSysproDate(date)) {
        errors.push({
          element: 'JournalDate',
          value: date,
          number: ERRORS.badDate,
          description: `Date '${date}' is invalid for XML element 'JournalDate' it must be CCYY-MM-DD format`,
        });
      }
      const year = Number(textOf(item, 'PostingYear') || date.slice(0, 4));
      const period = Number(textOf(item, 'PostingPeriod') || date.slice(5, 7));
      if (!Number.isInteger(period) || period < 1 || period > 13) {
        errors.push({
          element: 'PostingPeriod',
          value: textOf(item, 'PostingPeriod'),
          number: ERRORS.invalidValue,
          description: `Posting period '${textOf(item, 'PostingPeriod')}' is invalid`,
        });
      }
      if (!Number.isInteger(year) || year < 1900 || year > 2999) {
        errors.push({
          element: 'PostingYear',
          value: textOf(item, 'PostingYear'),
          number: ERRORS.invalidValue,
          description: `Posting year '${textOf(item, 'PostingYear')}' is invalid`,
        });
      }
      if (ctx.db.closedGlPeriods.has(`${year}-${String(period).padStart(2, '0')}`)) {
        // Wording invented (UNCONFIRMED): SYSPRO's text for a closed period is not in the reference.
        errors.push({
          element: 'PostingPeriod',
          value: String(period),
          number: ERRORS.notAllowed,
          description: `Posting period ${period} of year ${year} is closed for General Ledger postings`,
        });
      }
      const entries: Array<{
        glCode: string;
        amount: number;
        reference: string;
        additionalReference: string;
      }> = [];
      for (const detail of children(item, 'JournalDetails')) {
        const glCode = textOf(detail, 'LedgerCode');
        if (!ctx.db.genMaster.get(glCode)) {
          errors.push({
            element: 'LedgerCode',
            value: glCode,
            number: glCode ? ERRORS.notFound : ERRORS.blank,
            description: glCode
              ? `Ledger code '${glCode}' not found`
              : "XML element '{JournalDetails}{LedgerCode}' cannot be spaces",
          });
        }
        const amountText = textOf(detail, 'EntryAmount');
        const amount = parseSysproNumber(amountText);
        if (amount === undefined) {
          errors.push({
            element: 'EntryAmount',
            value: amountText,
            number: ERRORS.notNumeric,
            description: `Value '${amountText}' for XML element 'EntryAmount' is not numeric`,
          });
        }
        entries.push({
          glCode,
          amount: amount ?? 0,
          reference: fitColumn(textOf(detail, 'Reference'), 30),
          additionalReference: fitColumn(textOf(detail, 'AdditionalReference'), 30),
        });
      }
      const total = Math.round(entries.reduce((sum, e) => sum + e.amount, 0) * 100) / 100;
      if (entries.length < 2 || total !== 0) {
        errors.push({
          element: 'JournalDetails',
          value: total.toFixed(2),
          number: ERRORS.invalidValue,
          description:
            entries.length < 2
              ? 'A journal needs at least two entries'
              : `Journal does not balance (out by ${total.toFixed(2)})`,
        });
      }
      plans.push({
        errors,
        apply: () => {
          const journal =
            ctx.db.genJnlCtl.rows
              .filter((r) => r.JnlYear === year && r.JnlPeriod === period)
              .reduce((max, r) => Math.max(max, r.Journal as number), 0) + 1;
          const ctl: Row = {
            ...GEN_JNL_CTL_DEFAULTS,
            JnlYear: year,
            JnlPeriod: period,
            Journal: journal,
            JournalDate: date,
            Reference: fitColumn(textOf(item, 'JournalReference'), 30),
            Notation: fitColumn(textOf(item, 'Notation'), 100),
            Source: fitColumn(textOf(item, 'SourceCode') || 'GJ', 2),
            Operator: ctx.operator,
          };
          ctx.db.touch(ctl);
          ctx.db.genJnlCtl.insert(ctl);
          entries.forEach((e, i) => {
            const row: Row = {
              ...GEN_JNL_DETAIL_DEFAULTS,
              JnlYear: year,
              JnlPeriod: period,
              Journal: journal,
              EntryNumber: i + 1,
              GlCode: e.glCode,
              Reference: e.reference,
              EntryValue: e.amount,
              AdditionalReference: e.additionalReference,
            };
            ctx.db.touch(row);
            ctx.db.genJnlDetail.insert(row);
          });
          return ctl;
        },
      });
    }
    return answerPost(
      plans,
      {
        root: 'PostGlJournal',
        version: '8.0.005',
        validateOnly,
        entireDocument,
        lowerCase: ctx.quirks.postOutputCase === 'lower',
      },
      (plan) => plan.apply(),
      (_plan, index, ctl) => [
        el('ItemNumber', padCount(index + 1)),
        el('Journal', ctl ? padCount(ctl.Journal as number) : ''),
        el('JournalYear', ctl?.JnlYear ?? ''),
        el('JournalPeriod', ctl ? String(ctl.JnlPeriod).padStart(2, '0') : ''),
      ],
    );
  },
};
