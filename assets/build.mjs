// Bundles the design pages' libraries from node_modules into app/static/vendor/ (git-ignored), one
// script and one stylesheet per entry. Run by `make assets` after `npm ci`; no watch mode on purpose.
// `node assets/build.mjs --dev`: readable bundles with source maps, to find a library's line in a trace.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "..", "app", "static", "vendor");
const dev = process.argv.includes("--dev");

// CodeMirror (the FEEL fields of the form editor's panel) mounts its styles with style-mod, which puts
// a <style> element into a document's head; the page policy blocks that (style-src 'self'). Taking
// the constructable-stylesheet path it already uses for shadow roots (document.adoptedStyleSheets,
// which the policy does not govern) keeps the policy as it is. The build fails if the line moved.
const STYLE_MOD_HEAD = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const adoptedStyles = {
  name: "style-mod-adopted-sheets",
  setup(build) {
    build.onLoad({ filter: /[\\/]style-mod[\\/]src[\\/]style-mod\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes(STYLE_MOD_HEAD)) {
        throw new Error(`${args.path}: the line to patch is gone; see assets/build.mjs`);
      }
      return { contents: source.replace(STYLE_MOD_HEAD, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {"), loader: "js" };
    });
  },
};

const common = {
  plugins: [adoptedStyles],
  bundle: true,
  minify: !dev,
  sourcemap: dev ? "inline" : false,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  // Fonts and images the stylesheets name are copied beside them, served from /static as the page
  // policy wants.
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file", ".png": "file" },
  assetNames: "design-assets/[name]-[hash]",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "linked",
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: {
    "design-modeler": path.join(here, "design-modeler.js"),
    "design-diff": path.join(here, "design-diff.js"),
  },
});

// The form editor allows preact only up to the version it names, while the form viewer (whose fields the
// editor draws) takes the newest: two copies in one bundle break the hooks ("reading 'context'"), so
// every preact import of this bundle is the editor's own copy.
const editor = createRequire(import.meta.url).resolve("@bpmn-io/form-js-editor/package.json");
const editorPreact = path.join(path.dirname(editor), "node_modules", "preact");
await build({
  ...common,
  entryPoints: { "design-forms": path.join(here, "design-forms.js") },
  alias: { preact: editorPreact },
});
