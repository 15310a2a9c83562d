import "server-only";
import { accessRouter } from "./routers/access";
import { alertsRouter } from "./routers/alerts";
import { anomaliesRouter } from "./routers/anomalies";
import { explainRouter } from "./routers/explain";
import { incidentsRouter } from "./routers/incidents";
import { predictRouter } from "./routers/predict";
import { modelsRouter } from "./routers/models";
import { configRouter } from "./routers/config";
import { streamsRouter } from "./routers/streams";
import { systemRouter } from "./routers/system";
import { sourcesRouter } from "./routers/sources";
import { triageRouter } from "./routers/triage";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  streams: streamsRouter,
  anomalies: anomaliesRouter,
  incidents: incidentsRouter,
  alerts: alertsRouter,
  system: systemRouter,
  explain: explainRouter,
  predict: predictRouter,
  models: modelsRouter,
  config: configRouter,
  sources: sourcesRouter,
  triage: triageRouter,
  access: accessRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
