// Opens backprop's HTML reports in Debian's chromium (headless) through puppeteer-core and checks
// what a reader sees: no console error, no request but the file itself (data: images inside
// it), every section, and each chart with the number of series, cells, points or images that
// the metrics file and the data imply. Screenshots are kept beside the reports.
//
//   node report_browser_test.js DIR     (DIR holds the files of make_reports.sh)
'use strict';
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

let puppeteer;
try {
  puppeteer = require('puppeteer-core');
} catch (e) {
  console.error('puppeteer-core is missing: run `npm ci` in ' + __dirname);
  process.exit(1);
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node report_browser_test.js DIR');
  process.exit(2);
}
const failures = [];
function check(ok, message) {
  if (!ok) failures.push(message);
  console.log((ok ? 'ok   ' : 'FAIL ') + message);
}

function metrics(name) {
  return fs.readFileSync(path.join(dir, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}
// Series of a curve that have at least one value.
function seriesWithValues(history, keys) {
  return keys.filter((k) => history.some((m) => m[k] !== null)).length;
}
function csvRows(file) {
  return fs.readFileSync(file, 'utf8').trim().split('\n').length - 1;
}

async function open(browser, file, width) {
  const page = await browser.newPage();
  const url = pathToFileURL(path.join(dir, file)).href;
  const problems = [];
  const requests = [];
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const u = req.url();
    if (u === url || u.startsWith('data:')) {
      req.continue();
    } else {
      requests.push(u);
      req.abort();
    }
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(String(err)));
  page.on('requestfailed', (req) => {
    if (!requests.includes(req.url())) problems.push('request failed: ' + req.url());
  });
  await page.setViewport({ width, height: 900 });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, requests };
}

function count(page, selector) {
  return page.$$eval(selector, (els) => els.length);
}

async function common(browser, file, history, layers) {
  const { page, problems, requests } = await open(browser, file, 1200);
  check(problems.length === 0, `${file}: no console errors (${problems.join('; ')})`);
  check(requests.length === 0, `${file}: no request but the file itself (${requests.join(', ')})`);
  for (const id of ['summary', 'curves', 'layers', 'health', 'evaluation', 'run'])
    check((await count(page, `section#${id}`)) === 1, `${file}: section #${id}`);
  check((await count(page, 'script, link, iframe')) === 0, `${file}: no script, link or iframe`);
  const loss = seriesWithValues(history, ['train_loss', 'val_loss', 'test_loss']);
  check((await count(page, 'svg[data-chart="loss"] g.series')) === loss,
        `${file}: loss chart has ${loss} series`);
  check((await count(page, 'svg[data-chart="loss"] g.series[data-name="train"] circle')) ===
            history.length,
        `${file}: one train loss point per epoch (${history.length})`);
  check((await count(page, 'svg[data-chart="learning_rate"] g.series')) === 1,
        `${file}: learning-rate chart`);
  for (const stat of ['weight_norm', 'grad_norm', 'update_ratio', 'activation_mean']) {
    const expected = stat === 'activation_mean' ? layers - 1 : layers;
    check((await count(page, `svg[data-chart="${stat}"] g.series`)) === expected,
          `${file}: ${stat} chart has ${expected} layer series`);
  }
  return { page, problems };
}

async function shoot(page, name, fullPage = true) {
  await page.screenshot({ path: path.join(dir, name), fullPage });
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    // Fashion-MNIST: classification with images.
    const fashion = metrics('fashion.jsonl');
    for (const file of ['fashion.html', 'fashion_cmd.html']) {
      const { page, problems } = await common(browser, file, fashion, 2);
      const acc = seriesWithValues(fashion, ['train_accuracy', 'val_accuracy', 'test_accuracy']);
      check((await count(page, 'svg[data-chart="accuracy"] g.series')) === acc,
            `${file}: accuracy chart has ${acc} series`);
      check((await count(page, 'svg[data-chart="saturated_fraction"] g.series')) === 1,
            `${file}: saturated-units chart for the sigmoid layer`);
      check((await count(page, 'svg[data-chart="dead_fraction"]')) === 0,
            `${file}: no dead-units chart without ReLU`);
      check((await count(page, 'svg[data-chart="confusion"] rect.cell')) === 100,
            `${file}: 10 x 10 confusion cells`);
      const total = await page.$$eval('svg[data-chart="confusion"] rect.cell',
                                      (els) => els.reduce((s, e) => s + Number(e.dataset.count), 0));
      check(total === 10000, `${file}: confusion counts sum to the 10000 test images (${total})`);
      check((await count(page, 'table.per-class tr')) === 11, `${file}: precision/recall/F1 of 10 classes`);
      const weights = await page.$$eval('#weights img', (els) =>
        els.map((e) => [e.complete, e.naturalWidth, e.naturalHeight]));
      check(weights.length === 128, `${file}: one weight image per hidden unit (${weights.length})`);
      check(weights.every(([c, w, h]) => c && w === 28 && h === 28),
            `${file}: every weight image decodes to 28 x 28`);
      const wrong = await page.$$eval('#wrong figure img', (els) =>
        els.map((e) => e.naturalWidth));
      check(wrong.length === 16 && wrong.every((w) => w === 28),
            `${file}: 16 most confidently wrong images, decoded (${wrong.length})`);
      check((await count(page, '#health li')) === 0, `${file}: no health warning on a good run`);
      check(problems.length === 0, `${file}: no console errors after the checks`);
      if (file === 'fashion.html') await shoot(page, 'report_fashion.png');
      // Print: no navigation bar.
      await page.emulateMediaType('print');
      const navShown = await page.$eval('nav', (n) => getComputedStyle(n).display !== 'none');
      check(!navShown, `${file}: the navigation is hidden when printed`);
      await page.close();
    }

    // Phone width: nothing wider than the screen.
    {
      const { page } = await open(browser, 'fashion.html', 375);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 376, `fashion.html: fits a 375 px screen (scroll width ${width})`);
      await shoot(page, 'report_fashion_phone.png', false);
      await page.close();
    }

    // CSV regression.
    {
      const houses = metrics('houses.jsonl');
      const { page } = await common(browser, 'houses.html', houses, 2);
      const n = Math.min(1000, csvRows(path.join(dir, 'tabular', 'houses_test.csv')));
      check((await count(page, 'svg[data-chart="predicted_vs_true"] circle.point')) === n,
            `houses.html: ${n} points predicted against true`);
      check((await count(page, 'svg[data-chart="residuals"] circle.point')) === n,
            `houses.html: ${n} residuals`);
      check((await count(page, 'svg[data-chart="accuracy"], svg[data-chart="confusion"], #weights')) === 0,
            'houses.html: no accuracy, confusion or weights for regression');
      check((await count(page, 'svg[data-chart="dead_fraction"] g.series')) === 1,
            'houses.html: dead-units chart for the ReLU layer');
      await shoot(page, 'report_houses.png');
      await page.close();
    }

    // Names that are markup show as text and run nothing.
    {
      const hostile = metrics('hostile.jsonl');
      const { page, problems } = await common(browser, 'hostile.html', hostile, 2);
      const text = await page.$eval('#run', (e) => e.textContent);
      check(text.includes('</script><script>alert(1)</script>') && text.includes('<b>bold</b>'),
            'hostile.html: class names shown as text');
      check((await count(page, 'main b')) === 0 || !(await page.$eval('main', (m) =>
        [...m.querySelectorAll('b')].some((b) => b.textContent === 'bold'))),
            'hostile.html: no <b> element made from a class name');
      check(problems.length === 0, 'hostile.html: nothing ran');
      await page.close();
    }
  } finally {
    await browser.close();
  }
  if (failures.length) {
    console.error(`${failures.length} check(s) failed:\n  ` + failures.join('\n  '));
    process.exit(1);
  }
  console.log('all checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
