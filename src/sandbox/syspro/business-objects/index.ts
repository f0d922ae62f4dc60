/** The business objects the sandbox answers, by name. Anything else answers e.net exception 100000. */
import type { BusinessObject } from './common.js';
import { comsfm } from './comsfm.js';
import { gentjl } from './gentjl.js';
import { invqry } from './invqry.js';
import { sorqdn } from './sorqdn.js';
import { sorqry } from './sorqry.js';
import { sortdn } from './sortdn.js';
import { sortoi } from './sortoi.js';
import { sortos } from './sortos.js';
import { combrw, comfch, comfnd } from './table-access.js';

export const BUSINESS_OBJECTS: ReadonlyMap<string, BusinessObject> = new Map(
  [sorqry, sortoi, sortos, sortdn, sorqdn, comsfm, gentjl, invqry, comfnd, comfch, combrw].map((bo) => [
    bo.name,
    bo,
  ]),
);
