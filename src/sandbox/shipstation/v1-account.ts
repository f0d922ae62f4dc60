/**
 * V1 `GET /stores` and `GET /warehouses` (bare arrays): where clients look up the `storeId` and
 * `warehouseId` to put in `advancedOptions`.
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.js';
import { QueryReader } from './list-query.js';
import { formatDotNetTrimmed } from './pacific-time.js';

export function registerAccountRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get('/stores', async (request) => {
    const q = new QueryReader(request.query as Record<string, string>, ctx.filterTimeRule);
    const marketplaceId = q.int('marketplaceId');
    q.bool('showInactive');
    q.check();
    return [...ctx.state.stores.values()]
      .filter((s) => marketplaceId === undefined || s.marketplaceId === marketplaceId)
      .map((s) => ({
        storeId: s.storeId,
        storeName: s.storeName,
        marketplaceId: s.marketplaceId,
        marketplaceName: s.marketplaceName,
        accountName: null,
        email: null,
        integrationUrl: null,
        active: true,
        companyName: '',
        phone: '',
        publicEmail: '',
        website: '',
        refreshDate: s.manual ? null : formatDotNetTrimmed(s.createDate),
        lastRefreshAttempt: s.manual ? null : formatDotNetTrimmed(s.createDate),
        createDate: formatDotNetTrimmed(s.createDate),
        modifyDate: formatDotNetTrimmed(s.createDate),
        autoRefresh: !s.manual,
        statusMappings: null,
      }));
  });

  app.get('/warehouses', async () =>
    [...ctx.state.warehouses.values()].map((w) => ({
      warehouseId: w.warehouseId,
      warehouseName: w.warehouseName,
      originAddress: w.originAddress,
      returnAddress: w.originAddress,
      createDate: formatDotNetTrimmed(w.createDate),
      isDefault: w.isDefault,
    })),
  );
}
