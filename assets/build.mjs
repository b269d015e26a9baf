// Bundles the design pages' libraries from node_modules into app/static/vendor/ (git-ignored), one
// script and one stylesheet per entry. Run by `make assets` after `npm ci`; no watch mode on purpose.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "..", "app", "static", "vendor");

await build({
  entryPoints: {
    "design-modeler": path.join(here, "design-modeler.js"),
    "design-diff": path.join(here, "design-diff.js"),
  },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  // Fonts and images end up inside the CSS as data: URLs, which the page policy allows (font-src and
  // img-src data:); no other file needs serving.
  loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".eot": "dataurl", ".svg": "dataurl", ".png": "dataurl" },
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "linked",
  logLevel: "warning",
});
