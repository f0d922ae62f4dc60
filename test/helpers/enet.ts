/** An e.net client logged on as the SYSPRO sandbox's operator, for tests against the sandbox. */
import type { SysproSandbox } from '../../src/sandbox/syspro/index.js';
import { createEnetClient, type EnetClient, type EnetClientOptions } from '../../src/syspro/enet-client.js';
import type { FakeClock } from './clock.js';

export function sandboxEnetClient(
  sandbox: SysproSandbox,
  clock: FakeClock,
  extra: Partial<EnetClientOptions> = {},
): EnetClient {
  return createEnetClient({
    baseUrl: sandbox.enetUrl,
    operator: sandbox.operator,
    operatorPassword: sandbox.operatorPassword,
    company: sandbox.company,
    companyPassword: sandbox.companyPassword,
    clock,
    timeoutMs: 5000,
    ...extra,
  });
}
