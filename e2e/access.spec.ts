import { expect, test } from "./fixtures";
import { collectConsoleErrors, shot } from "./fixtures";
import { E2E } from "./seed-data";

/** Log-in, roles and API tokens as users meet them. Runs signed in as the first admin (auth.setup.ts). */
const VIEWER = { username: "e2e-viewer", password: "viewer-password-123" };

test("signed out: pages redirect to the log-in page, a wrong password is refused, the API answers 401", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/anomalies?status=open");
  await expect(page).toHaveURL(/\/login\?next=%2Fanomalies%3Fstatus%3Dopen$/);
  await expect(page.getByRole("heading", { name: "Sign in to Omen" })).toBeVisible();
  await expect(page.getByRole("navigation")).toHaveCount(0);
  await shot(page, "login");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong" })).toHaveText("Wrong user name or password.");
  await shot(page, "login-refused");
  const api = await context.request.get("/api/v1/streams");
  expect(api.status()).toBe(401);
  const trpc = await context.request.get("/api/trpc/streams.list");
  expect(trpc.status()).toBe(401);
  await context.close();
});

test("an admin adds a viewer; the viewer signs in, reads, and is refused a change in the UI", async ({ page, browser, baseURL }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/settings");
  await page.getByRole("link", { name: /Users/ }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.getByTestId("users")).toContainText("admin");
  await page.getByLabel("New user name").fill(VIEWER.username);
  await page.getByLabel("New user password").fill(VIEWER.password);
  await page.getByLabel("New user role").selectOption("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("row").filter({ hasText: VIEWER.username })).toBeVisible();
  await expect(page.getByLabel(`Role of ${VIEWER.username}`)).toHaveValue("viewer");
  await shot(page, "settings-users");
  expect(errors()).toEqual([]);

  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const viewer = await context.newPage();
  await viewer.goto("/settings/detectors");
  await expect(viewer).toHaveURL(/\/login\?next=%2Fsettings%2Fdetectors$/);
  await viewer.getByLabel("User name").fill(VIEWER.username);
  await viewer.getByLabel("Password").fill(VIEWER.password);
  await viewer.getByRole("button", { name: "Sign in" }).click();
  await expect(viewer).toHaveURL(/\/settings\/detectors$/);
  await expect(viewer.getByTestId("signed-in-user")).toContainText(`${VIEWER.username} (viewer)`);
  await expect(viewer.getByRole("heading", { name: "Detectors and thresholds" })).toBeVisible();
  // a stream's settings (the global scope is managed by the e2e omen.yaml, read-only for everyone)
  await viewer.getByLabel("Scope", { exact: true }).selectOption("stream");
  const streamSelect = viewer.getByLabel("Stream", { exact: true });
  const value = await streamSelect.locator("option", { hasText: E2E.checkoutKey }).getAttribute("value");
  await streamSelect.selectOption(value!);
  // a viewer reads settings but is offered no change (the server refuses one anyway: auth-matrix test)
  await expect(viewer.getByTestId("read-only")).toContainText("Read-only for viewers");
  await expect(viewer.getByLabel("Sensitivity")).toBeDisabled();
  await expect(viewer.getByRole("button", { name: "Save settings" })).toBeDisabled();
  await shot(viewer, "viewer-refused");
  // no triage or labelling controls on the anomaly list and page, no rollback, no source changes
  await viewer.goto("/anomalies");
  await expect(viewer.getByTestId("anomaly-row").first()).toBeVisible();
  await expect(viewer.getByRole("toolbar", { name: "Bulk actions" }).getByRole("button", { name: "Acknowledge" })).toHaveCount(0);
  await viewer.getByTestId("anomaly-row").first().getByRole("link").first().click();
  await expect(viewer.getByTestId("anomaly-title")).toBeVisible();
  await expect(viewer.getByTestId("viewer-note")).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Acknowledge" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "False positive" })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Add comment" })).toHaveCount(0);
  await shot(viewer, "viewer-anomaly");
  await viewer.goto("/settings/models");
  await expect(viewer.getByRole("heading", { name: /Models/ })).toBeVisible();
  await expect(viewer.getByRole("button", { name: /Roll back/ })).toHaveCount(0);
  await expect(viewer.getByRole("button", { name: "Take a snapshot now" })).toHaveCount(0);
  await viewer.goto("/settings/sources");
  await expect(viewer.getByRole("cell", { name: "e2e-shop", exact: true })).toBeVisible();
  await expect(viewer.getByTestId("ingest-token-hint")).toBeVisible();
  await expect(viewer.getByTestId("admin-only-note")).toBeVisible();
  await expect(viewer.getByRole("button", { name: /^Delete/ })).toHaveCount(0);
  await shot(viewer, "viewer-sources");
  // admin pages are refused outright
  const users = await viewer.goto("/settings/users");
  expect(users?.status()).toBe(403);
  // signing out ends the session
  await viewer.goto("/");
  await viewer.getByRole("button", { name: "Sign out" }).click();
  await expect(viewer).toHaveURL(/\/login$/);
  expect((await context.request.get("/api/v1/streams")).status()).toBe(401);
  await context.close();
});

test("API tokens: shown once at creation, scoped, rotated and revoked", async ({ page, playwright, baseURL }) => {
  await page.goto("/settings/tokens");
  await expect(page.getByRole("heading", { name: "API tokens" })).toBeVisible();
  await page.getByLabel("Token name").fill("e2e-reader");
  await page.getByRole("checkbox", { name: "ingest" }).uncheck();
  await page.getByRole("checkbox", { name: "read" }).check();
  await page.getByRole("button", { name: "Create token" }).click();
  const secretCell = page.getByTestId("new-token-secret");
  await expect(secretCell).toHaveText(/^omen_[A-Za-z0-9_-]{40,}$/);
  const secret = (await secretCell.textContent())!;
  await expect(page.getByTestId("new-token")).toContainText("it will not be shown again");
  await expect(page.getByRole("row").filter({ hasText: "e2e-reader" })).toContainText(`${secret.slice(0, 10)}…`);
  await shot(page, "settings-tokens");

  const api = await playwright.request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const auth = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
  expect((await api.get("/api/v1/streams", auth(secret))).status()).toBe(200);
  // read scope cannot write
  const write = await api.post("/api/v1/import/csv", { ...auth(secret), headers: { ...auth(secret).headers, "content-type": "text/csv" }, data: "timestamp,x\n1,1\n" });
  expect(write.status()).toBe(403);

  // shown once: a reload lists the token without its secret
  await page.reload();
  await expect(page.getByRole("row").filter({ hasText: "e2e-reader" })).toBeVisible();
  await expect(page.locator("body")).not.toContainText(secret);

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("row").filter({ hasText: "e2e-reader" }).getByRole("button", { name: "Rotate" }).click();
  await expect(secretCell).toHaveText(/^omen_/);
  const rotated = (await secretCell.textContent())!;
  expect(rotated).not.toBe(secret);
  expect((await api.get("/api/v1/streams", auth(secret))).status()).toBe(401);
  expect((await api.get("/api/v1/streams", auth(rotated))).status()).toBe(200);

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("row").filter({ hasText: "e2e-reader" }).getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByRole("row").filter({ hasText: "e2e-reader" })).toContainText("revoked");
  expect((await api.get("/api/v1/streams", auth(rotated))).status()).toBe(401);
  await api.dispose();
});
