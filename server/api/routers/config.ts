import path from "node:path";
import { z } from "zod";
import { ZCount, ZEpochMs, ZId } from "@/lib/schemas/ids";
import { ZConfigScope, ZDetectorSettings } from "@/lib/config/settings";
import { runBacktest } from "../../services/backtest/backtest-service";
import { configFileStatus } from "../../services/config/config-file";
import {
  clearScopeSettings,
  describeScope,
  listScopeOptions,
  recentChanges,
  revertToVersion,
  saveScopeSettings,
} from "../../services/config/config-service";
import { env } from "../../env";
import { operatorProcedure, viewerProcedure, createTRPCRouter } from "../trpc";

const ZTarget = z.object({ scope: ZConfigScope, ref: z.string().max(300).default("") });

export const configRouter = createTRPCRouter({
  scopes: viewerProcedure.input(z.object({ search: z.string().max(200).optional() }).default({})).query(({ input }) => listScopeOptions(input.search)),
  get: viewerProcedure.input(ZTarget).query(({ input }) => describeScope(input)),
  save: operatorProcedure
    .input(z.object({ target: ZTarget, settings: ZDetectorSettings, note: z.string().max(500).optional(), expectedVersion: ZCount.optional() }))
    .mutation(({ input, ctx }) => saveScopeSettings({ ...input, author: ctx.actor })),
  clear: operatorProcedure.input(ZTarget).mutation(({ input, ctx }) => clearScopeSettings(input, ctx.actor)),
  revert: operatorProcedure.input(z.object({ versionId: ZId })).mutation(({ input, ctx }) => revertToVersion(input.versionId, ctx.actor)),
  history: viewerProcedure.query(() => recentChanges()),
  backtest: operatorProcedure
    .input(
      z
        .object({ target: ZTarget, proposed: ZDetectorSettings, days: z.number().int().min(1).max(30).optional(), fromMs: ZEpochMs.optional(), toMs: ZEpochMs.optional() })
        .refine((v) => (v.fromMs === undefined) === (v.toMs === undefined), { message: "Give both the start and the end of the backtest range." }),
    )
    .mutation(({ input }) => runBacktest(input)),
  file: viewerProcedure.query(() => configFileStatus(path.resolve(env().OMEN_CONFIG_FILE))),
});
