/** The template tag every page is written with: it escapes by default. */
import assert from "node:assert/strict";
import { markup, SafeHtml, trusted } from "../http/html.ts";

Deno.test("markup escapes every interpolated string, in text and in attributes", () => {
  const name = `<img src=x onerror="alert(1)">&'`;
  assert.equal(
    markup`<p title="${name}">${name}</p>`.text,
    `<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;">` +
      `&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;</p>`,
  );
});

Deno.test("markup inserts nested markup once, joins arrays and writes nothing for empty values", () => {
  const inner = markup`<b>${"a<b"}</b>`;
  assert.ok(inner instanceof SafeHtml);
  assert.equal(
    markup`${inner}|${[inner, "<", 7]}|${null}${undefined}${false}${true}|${0}`.text,
    "<b>a&lt;b</b>|<b>a&lt;b</b>&lt;7||0",
  );
});

Deno.test("only markup the code wrote itself passes unescaped", () => {
  assert.equal(markup`${trusted("<hr>")}${"<hr>"}`.text, "<hr>&lt;hr&gt;");
});
