/**
 * @file What the browser tests need: a static server for the built site (node:http, nothing
 * else) and a headless Chromium. The browser is the one inside the npm package
 * @sparticuz/chromium (installed from the registry with everything else; nothing is downloaded at
 * run time), or CHROMIUM_PATH when set; playwright-core drives it.
 */

import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import chromium from "@sparticuz/chromium";
import { type Browser, chromium as playwright } from "playwright-core";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".bin": "application/octet-stream",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** Serve `root` as a plain static host would; resolves to the server and its address. */
export async function serveStatic(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const file = join(root, normalize(path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(root)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      response.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** A headless Chromium: CHROMIUM_PATH if set, else the binary shipped in @sparticuz/chromium. */
export async function launchChromium(): Promise<Browser> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== "") {
    return playwright.launch({ executablePath: fromEnv, headless: true, args: ["--no-sandbox"] });
  }
  return playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
}
