import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { collectConsoleErrors, shot, shotDark } from "./fixtures";

/** A webhook receiver on a free local port, recording JSON bodies. */
async function startReceiver() {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString("utf8")));
    req.on("end", () => {
      bodies.push(JSON.parse(data || "null") as Record<string, unknown>);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/omen-hook`;
  return { url, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test("alerts: create a webhook rule with validation, send a test, toggle, edit and delete it", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  const rx = await startReceiver();
  try {
    await page.goto("/");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
    await expect(page.getByRole("heading", { name: "Alerts", exact: true })).toBeVisible();
    await expect(page.getByText("No alert rules yet")).toBeVisible();

    await page.getByRole("button", { name: "New rule" }).click();
    const form = page.getByRole("form", { name: "New alert rule" });
    await expect(form).toBeVisible();

    // Empty submit: each problem is named next to its field, and the name field gets focus.
    await form.getByRole("button", { name: "Create rule" }).click();
    await expect(form.getByRole("alert")).toContainText("Please fix 2 highlighted fields");
    await expect(form.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
    await expect(form.getByText("Name is required")).toBeVisible();
    await expect(form.getByText("URL is required")).toBeVisible();
    await expect(form.getByLabel("Name")).toBeFocused();
    await shot(page, "alerts-validation");

    // A non-http URL is still refused.
    await form.getByLabel("Name").fill("Checkout latency");
    await form.getByLabel("URL").fill("ftp://example.com/hook");
    await form.getByRole("button", { name: "Create rule" }).click();
    await expect(form.getByText("URL must be an http:// or https:// address")).toBeVisible();
    await expect(form.getByLabel("URL")).toBeFocused();

    await form.getByLabel("URL").fill(rx.url);
    await form.getByLabel("Minimum severity").selectOption("high");
    await form.getByLabel("Metric (optional)").fill("checkout_*");
    await form.getByLabel("Extra headers (optional)").fill("X-Team: sre");

    // Send test posts the sample anomaly to the receiver and shows the answer.
    await form.getByRole("button", { name: "Send test" }).click();
    await expect(page.getByTestId("test-result")).toContainText("Test delivered: HTTP 200");
    await expect.poll(() => rx.bodies.filter((b) => b.test === true).length).toBe(1);
    const sample = rx.bodies.find((b) => b.test === true) as { event: string; anomaly: { url: string; summary: string } };
    expect(sample.event).toBe("opened");
    expect(sample.anomaly.url).toMatch(/\/anomalies\//);
    expect(sample.anomaly.summary).toContain("Test alert");

    await form.getByRole("button", { name: "Create rule" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Saved rule “Checkout latency”" })).toBeVisible();
    const row = page.getByTestId("rule-row").filter({ hasText: "Checkout latency" });
    await expect(row).toContainText("≥ high · metric checkout_*");
    await expect(row).toContainText("127.0.0.1");
    await expect(page.getByTestId("deliveries-table")).toBeVisible();

    // Keyboard: toggle the rule off and back on from its accessible button.
    const toggle = page.getByRole("button", { name: "Enabled: Checkout latency" });
    await expect(toggle).toHaveAttribute("aria-pressed", "true");
    await toggle.focus();
    await page.keyboard.press("Enter");
    await expect(toggle).toHaveAttribute("aria-pressed", "false");
    await page.keyboard.press("Space");
    await expect(toggle).toHaveAttribute("aria-pressed", "true");

    // Edit: change the cooldown, test again, save.
    await page.getByRole("button", { name: "Edit Checkout latency" }).click();
    const edit = page.getByRole("form", { name: /Edit rule/ });
    await edit.getByLabel("Cooldown (seconds)").fill("600");
    await edit.getByRole("button", { name: "Send test" }).click();
    await expect(page.getByTestId("test-result")).toContainText("Test delivered");
    await shot(page, "alerts");
    await shotDark(page, "alerts");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await expect(row).toContainText("600s");

    // Delete asks for confirmation first.
    await page.getByRole("button", { name: "Delete Checkout latency" }).click();
    await expect(row).toBeVisible();
    await page.getByRole("button", { name: "Confirm delete Checkout latency" }).click();
    await expect(page.getByText("No alert rules yet")).toBeVisible();
    expect(errors()).toEqual([]);
  } finally {
    await rx.close();
  }
});
