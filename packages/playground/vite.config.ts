import { defineConfig } from "vite";

// A static site: relative asset paths (base "./") so it works from any folder of any static
// host, and ES-module workers so the training workers share chunks with the page.
export default defineConfig({
  base: "./",
  worker: { format: "es" },
  build: { target: "es2022", chunkSizeWarningLimit: 2000 },
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
});
