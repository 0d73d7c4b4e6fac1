// End-to-end test of the facekit web console in a real browser: Debian's
// chromium, headless, driven by playwright-core. scripts/console-e2e.sh
// starts the server and sets the environment:
//
//   FACEKIT_URL       base URL of a running `facekit serve`
//   FACEKIT_API_KEY   API key of an application
//   FACEKIT_SECRET    its secret key
//   FACEKIT_PHOTOS    directory with the shared test photos (faces/*.jpg)
//   SCREENSHOTS       directory for the screenshots of the main flows
//   CHROMIUM          browser binary (default /usr/bin/chromium)
//
// Exits non-zero on the first failed expectation.
import { chromium } from 'playwright-core';
import SwaggerParser from '@apidevtools/swagger-parser';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = (k, def) => {
  const v = process.env[k] || def;
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env('FACEKIT_URL');
const apiKey = env('FACEKIT_API_KEY');
const secret = env('FACEKIT_SECRET');
const photos = env('FACEKIT_PHOTOS');
// A crafted scene without a face: profile photos such as eunseo.jpg are no
// longer "no face" for the server's auto detector, which finds them with the CNN.
const noFacePhoto = env('FACEKIT_NO_FACE');
const shots = env('SCREENSHOTS', path.join(os.tmpdir(), 'facekit-console-shots'));
const photo = (name) => path.join(photos, name);
fs.mkdirSync(shots, { recursive: true });

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facekit-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1360, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] || await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
// The wrong-secret and no-face steps provoke a 401 and a 422 on purpose;
// the browser logs those as failed loads.
const expected = /Failed to load resource: the server responded with a status of (401|422)/;
page.on('console', (m) => { if (m.type() === 'error' && !expected.test(m.text())) problems.push('console error: ' + m.text()); });
// Nothing may be loaded from anywhere but the server (air-gapped sites).
page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) problems.push('external request: ' + r.url()); });
page.on('dialog', (d) => d.accept());

let step = 0;
async function shot(name) {
  step++;
  const file = path.join(shots, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log('screenshot', file);
}
async function check(name, fn) {
  process.stdout.write(`- ${name} ... `);
  await fn();
  console.log('ok');
}
const T = { timeout: 60000 }; // CPU-bound steps on a 2-core machine

// waitFor polls fn in the page until it returns true. (page.waitForFunction
// evaluates a string, which the console's Content-Security-Policy forbids,
// and the policy stays on in this test so that violations show up.)
async function waitFor(fn, arg, opts) {
  const deadline = Date.now() + ((opts && opts.timeout) || 10000);
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + fn.toString());
    await page.waitForTimeout(100);
  }
}

try {
  await check('/openapi.json is a valid OpenAPI 3 document', async () => {
    const resp = await fetch(base + '/openapi.json');
    assert.equal(resp.status, 200);
    const doc = await SwaggerParser.validate(await resp.json());
    assert.ok(Object.keys(doc.paths).length >= 25, 'only ' + Object.keys(doc.paths).length + ' paths');
  });

  await check('sign-in page renders', async () => {
    await page.goto(base + '/console');
    await page.waitForSelector('#signin-form');
    assert.equal(await page.isVisible('#tabs'), false);
    await shot('signin');
  });

  await check('wrong secret is refused', async () => {
    await page.fill('#api-key', apiKey);
    await page.fill('#secret-key', 'wrong');
    await page.click('#signin-submit');
    await waitFor(() => document.getElementById('signin-error').textContent.length > 0);
    assert.equal(await page.isVisible('#tabs'), false);
  });

  await check('sign in with the application key', async () => {
    await page.fill('#secret-key', secret);
    await page.click('#signin-submit');
    await page.waitForSelector('#tabs:not([hidden])');
    assert.match(await page.textContent('#who-name'), /\(/);
  });

  await check('detect draws 10 faces of the group photo with 68 landmarks each', async () => {
    await page.setInputFiles('#detect-file', photo('pristin.jpg'));
    await page.click('#detect-form button[type=submit]');
    await page.waitForSelector('#detect-count', T);
    assert.match(await page.textContent('#detect-count'), /^10 face\(s\)/);
    assert.equal(await page.locator('#detect-faces .face-card').count(), 10);
    const rows = await page.locator('#detect-faces .face-card').first().textContent();
    assert.match(rows, /landmarks68/);
    assert.match(rows, /yaw \/ pitch \/ roll/);
    assert.match(rows, /quality level(NONE|LOW|NORMAL|HIGH)/);
    assert.match(rows, /expression(none|smile|laugh)/);
    // The canvas holds the photo plus drawings: sample the first face's box
    // edge for the first palette colour (#e6194b).
    const hit = await page.evaluate(() => {
      const c = document.getElementById('detect-canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] === 0xe6 && d[i + 1] === 0x19 && d[i + 2] === 0x4b) n++;
      return { n, w: c.width };
    });
    assert.ok(hit.w > 500, 'canvas too small: ' + hit.w);
    assert.ok(hit.n > 100, 'first face drawn with only ' + hit.n + ' pixels of its colour');
    await shot('detect-group');
  });

  await check('detect shows one face of a portrait with pose axes', async () => {
    await page.setInputFiles('#detect-file', photo('chaeyeon.jpg'));
    await page.click('#detect-form button[type=submit]');
    await waitFor(() => /^1 face\(s\)/.test(document.getElementById('detect-count')?.textContent || ''), null, T);
    await shot('detect-portrait');
  });

  await check('detect reports a photo without a face', async () => {
    await page.setInputFiles('#detect-file', noFacePhoto);
    await page.click('#detect-form button[type=submit]');
    await waitFor(() => document.getElementById('detect-error').textContent.length > 0, null, T);
    assert.match(await page.textContent('#detect-error'), /no face/);
  });

  await check('compare shows the score on each vendor scale', async () => {
    await page.click('#tabs button[data-tab=compare]');
    await page.setInputFiles('#compare-a', photo('jimin.jpg'));
    await page.setInputFiles('#compare-b', photo('jimin2.jpg'));
    await page.click('#compare-form button[type=submit]');
    await page.waitForSelector('#compare-scores', T);
    const baidu = Number(await page.textContent('#compare-scores tr[data-scale=baidu] .score'));
    const linkface = Number(await page.textContent('#compare-scores tr[data-scale=linkface] .score'));
    const tencent = Number(await page.textContent('#compare-scores tr[data-scale=tencent] .score'));
    assert.ok(baidu > 0 && baidu <= 100, 'baidu ' + baidu);
    assert.ok(linkface > 0 && linkface <= 1, 'linkface ' + linkface);
    assert.ok(tencent > 0 && tencent <= 100, 'tencent ' + tencent);
    await shot('compare');
  });

  await check('library: create a group and enroll two users with thumbnails', async () => {
    await page.click('#tabs button[data-tab=library]');
    await page.fill('#group-id', 'staff');
    await page.click('#group-form button[type=submit]');
    await page.waitForSelector('#group-list li[data-group=staff].active');
    for (const [id, file, info] of [['jimin', 'jimin.jpg', 'Jimin, reception'], ['bona', 'bona.jpg', 'Bona, night shift']]) {
      await page.fill('#user-id', id);
      await page.fill('#user-info', info);
      await page.setInputFiles('#user-photo', photo(file));
      await page.click('#user-form button[type=submit]');
      await page.waitForSelector(`.user[data-user=${id}] .face img`, T);
    }
    // Thumbnails are real images, not broken icons.
    await waitFor(() => [...document.querySelectorAll('.face img')].every((i) => i.complete && i.naturalWidth === 112));
    await shot('library-users');
  });

  await check('library: add a second face to a user, then delete it', async () => {
    await page.setInputFiles('input[data-add-face=jimin]', photo('jimin2.jpg'));
    await waitFor(() => document.querySelectorAll('.user[data-user=jimin] .face').length === 2, null, T);
    await waitFor(() => [...document.querySelectorAll('.user[data-user=jimin] .face img')].every((i) => i.complete && i.naturalWidth === 112));
    await shot('library-two-faces');
    await page.locator('.user[data-user=jimin] .face button').last().click();
    await waitFor(() => document.querySelectorAll('.user[data-user=jimin] .face').length === 1);
  });

  await check('search ranks the right person first', async () => {
    await page.click('#tabs button[data-tab=search]');
    await page.waitForSelector('#search-group option[value=staff]', { state: 'attached' });
    await page.selectOption('#search-group', 'staff');
    await page.setInputFiles('#search-file', photo('jimin4.jpg'));
    await page.click('#search-form button[type=submit]');
    await page.waitForSelector('#search-hits li[data-user]', T);
    const order = await page.$$eval('#search-hits li[data-user]', (lis) => lis.map((l) => l.dataset.user));
    assert.deepEqual(order, ['jimin', 'bona']);
    await waitFor(() => [...document.querySelectorAll('#search-hits img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot('search');
  });

  await check('library: delete a user', async () => {
    await page.click('#tabs button[data-tab=library]');
    await page.click('#group-list li[data-group=staff]');
    await page.waitForSelector('.user[data-user=bona]');
    await page.click('.user[data-user=bona] .user-head button');
    await page.waitForSelector('.user[data-user=bona]', { state: 'detached' });
    assert.equal(await page.locator('.user').count(), 1);
  });

  await check('sign out returns to the sign-in form', async () => {
    await page.click('#signout');
    await page.waitForSelector('#signin:not([hidden])');
  });

  assert.deepEqual(problems, [], problems.join('\n'));
  console.log('console e2e: all checks passed');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error('console e2e FAILED:', e.message);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
