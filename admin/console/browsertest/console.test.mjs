// Browser test of the vipgate web console: a real headless Chromium
// (Debian's /usr/bin/chromium) driven by playwright-core, with axe-core on
// every page. TestBrowser (browser_test.go) starts the server and runs it;
// it reads VIPGATE_URL, VIPGATE_TOKEN, VIPGATE_CHROMIUM and VIPGATE_SHOTS.
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.VIPGATE_URL;
const token = process.env.VIPGATE_TOKEN;
const shots = process.env.VIPGATE_SHOTS;
const exe = process.env.VIPGATE_CHROMIUM || '/usr/bin/chromium';
if (!base || !token || !shots) {
  console.error('set VIPGATE_URL, VIPGATE_TOKEN and VIPGATE_SHOTS');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const failures = [];
function check(cond, what) {
  if (!cond) {
    failures.push(what);
    console.error('FAIL: ' + what);
  } else {
    console.log('ok: ' + what);
  }
}

const browser = await chromium.launch({ executablePath: exe, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const consoleErrors = [];
// Answers such as 422 to a form post show as "Failed to load resource";
// anything else (a script error, a CSP refusal) counts.
page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text()); });

// axe runs on every page visited; serious or critical violations fail.
async function audit(name) {
  const res = await new AxeBuilder({ page }).analyze();
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    console.error(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
  }
  check(bad.length === 0, `axe on ${name}: no serious or critical violations (${res.violations.length} minor or moderate)`);
  await page.screenshot({ path: join(shots, name + '.png'), fullPage: true });
}

function nav(name) {
  return page.getByRole('navigation').getByRole('link', { name, exact: true });
}

// isFocused tells whether the element labelled label has the focus.
async function isFocused(label) {
  return page.getByLabel(label, { exact: true }).evaluate((el) => el === document.activeElement);
}

// tabTo presses Tab until the element labelled label has the focus (a
// time input takes a few: its hour, minute and, in a 12-hour locale,
// AM/PM parts).
async function tabTo(label) {
  for (let i = 0; i < 6; i++) {
    if (await isFocused(label)) return true;
    await page.keyboard.press('Tab');
  }
  return isFocused(label);
}

// typeTime types a time into the focused time input as a keyboard user
// does: hours, minutes and, where Chromium shows an AM/PM part (it
// follows the system's locale, not the page's), A or P.
async function typeTime(label, hh, mm) {
  await page.keyboard.type(hh + mm);
  const input = page.getByLabel(label, { exact: true });
  if ((await input.inputValue()) === '') {
    await page.keyboard.type(Number(hh) < 12 ? 'A' : 'P');
  }
  check((await input.inputValue()) === hh + ':' + mm, `week grid: ${label} is ${hh}:${mm} (${await input.inputValue()})`);
}

async function text(sel) {
  return (await page.locator(sel).first().textContent()) || '';
}

try {
  // Log in, with the keyboard only.
  await page.goto(base + '/login');
  await audit('login');
  await page.keyboard.press('Tab'); // skip link
  await page.getByLabel('API token').focus();
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.waitForURL(base + '/');
  check((await page.title()).startsWith('Overview'), 'logged in: the overview is shown');

  // Create a gate with a schedule.
  await nav('New gate').click();
  await page.getByLabel('ID (letters, digits, - and _)').fill('hotline');
  await page.getByLabel('Name', { exact: true }).fill('Hotline after hours');
  await page.getByLabel('Called numbers (one per line)').fill('+4930901820');
  await page.getByLabel('Mode').first().selectOption('schedule');
  await page.getByLabel('Time zone').fill('Europe/Berlin');
  await page.getByLabel('Active inside or outside the windows').selectOption('outside');
  // The week grid, with the keyboard: Tab from the select before it into
  // Monday's first slot, type 08:00, Tab on to its end, type 18:00.
  await page.getByLabel('Active inside or outside the windows').focus();
  check(await tabTo('Monday 1: from'), 'week grid: Tab reaches Monday\'s first slot');
  await typeTime('Monday 1: from', '08', '00');
  check(await tabTo('Monday 1: to'), 'week grid: Tab goes on to the end of the range');
  await typeTime('Monday 1: to', '18', '00');
  await page.getByLabel(/^Closures/).fill('12-24 12:00-24:00 yearly\n12-25 yearly');
  await page.locator('#f-imode').selectOption('table');
  // A bad value first: the domain's error shows at its field.
  await page.getByLabel('PIN attempts', { exact: true }).fill('99');
  await page.getByRole('button', { name: 'Save' }).click();
  check((await page.locator('#err-f-retries').count()) === 1, 'gate editor: the error of max_retries is shown at its field');
  await audit('gate-editor-error');
  await page.getByLabel('PIN attempts', { exact: true }).fill('3');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(base + '/gates/hotline');
  check((await text('.flash')).includes('Saved.'), 'gate created with a schedule');
  check((await page.getByLabel('Monday 1: from').inputValue()) === '08:00' && (await page.getByLabel('Monday 1: to').inputValue()) === '18:00',
    'week grid: the range typed with the keyboard is saved and shown');
  check((await page.locator('#wg-mon .strip .hit').count()) === 10, 'week grid: the strip marks Monday 08-18');
  // Add Saturday 09:00-12:00 to the existing gate, again with the keyboard.
  await page.getByLabel('Saturday 1: from').focus();
  await typeTime('Saturday 1: from', '09', '00');
  check(await tabTo('Saturday 1: to'), 'week grid: Tab goes on to the end of Saturday\'s range');
  await typeTime('Saturday 1: to', '12', '00');
  // Sunday with a start and no end: the domain's error shows at that cell.
  await page.getByLabel('Sunday 1: from').focus();
  await typeTime('Sunday 1: from', '10', '00');
  await page.getByRole('button', { name: 'Save' }).focus();
  await page.keyboard.press('Enter');
  await page.locator('[id="err-w.sun.0.to"]').waitFor({ timeout: 5000 }).catch(() => {});
  check((await page.locator('[id="err-w.sun.0.to"]').count()) === 1 &&
    (await page.getByLabel('Sunday 1: to', { exact: true }).getAttribute('aria-invalid')) === 'true',
    'week grid: a range without an end is marked at its end');
  await audit('gate-editor-grid-error');
  // Remove it with the keyboard (Space on its box) and save.
  await page.getByLabel('Remove Sunday 1').focus();
  await page.keyboard.press('Space');
  check(await page.getByLabel('Remove Sunday 1').isChecked(), 'week grid: Space ticks the remove box');
  await page.getByRole('button', { name: 'Save' }).focus();
  // The page with the error already has this URL: wait for the save's own
  // navigation, not for the URL, or the old page may still be read.
  const saved = page.waitForEvent('framenavigated');
  await page.keyboard.press('Enter');
  await saved;
  await page.waitForLoadState('load');
  await page.waitForURL(base + '/gates/hotline');
  check(!(await text('#wg-sun')).includes('10:00'), 'week grid: the removed range is gone');
  check((await text('#wg-sat')).includes('09:00–12:00'), 'week grid: a range added with the keyboard is saved');
  // The settings beyond the schedule: a lockout and a prompt typed into
  // their fieldsets; a bad sound name is marked at its field.
  await page.getByLabel('Failed dialogues per caller before a lockout').fill('3');
  await page.getByLabel('Counted within').fill('10m');
  await page.getByLabel('Lockout lasts').fill('1h');
  await page.getByLabel('Gate-wide lockout does').selectOption('slow');
  await page.getByLabel('Asks for the PIN (ask-pin)').fill('../etc/passwd');
  await page.getByRole('button', { name: 'Save' }).focus();
  const promptRefused = page.waitForEvent('framenavigated');
  await page.keyboard.press('Enter');
  await promptRefused;
  await page.waitForLoadState('load');
  await page.locator('[id="err-f-prompt-ask-pin"]').waitFor({ timeout: 5000 }).catch(() => {});
  check((await page.locator('[id="err-f-prompt-ask-pin"]').count()) === 1 &&
    (await page.getByLabel('Asks for the PIN (ask-pin)').getAttribute('aria-invalid')) === 'true',
    'gate editor: a bad prompt sound name is marked at its field');
  await audit('gate-editor-prompt-error');
  await page.getByLabel('Asks for the PIN (ask-pin)').fill('custom/hotline-ask');
  await page.getByRole('button', { name: 'Save' }).focus();
  // As above: the page with the error has the same URL.
  const promptSaved = page.waitForEvent('framenavigated');
  await page.keyboard.press('Enter');
  await promptSaved;
  await page.waitForLoadState('load');
  await page.waitForURL(base + '/gates/hotline');
  check((await page.getByLabel('Counted within').inputValue()) === '10m0s' &&
    (await page.getByLabel('Asks for the PIN (ask-pin)').inputValue()) === 'custom/hotline-ask' &&
    (await page.getByLabel('Gate-wide lockout does').inputValue()) === 'slow',
    'gate editor: the lockout and the prompt are saved and shown');
  await audit('gate-editor');

  // Import a CSV with a bad row and see its error.
  await page.getByRole('link', { name: 'Caller PINs' }).first().click();
  await page.getByLabel(/^CSV file/).setInputFiles({
    name: 'callers.csv', mimeType: 'text/csv',
    buffer: Buffer.from('caller,pin,label\n0176 1111 2222,4711,Ada\n<script>x</script>,4712,bad row\n+49 151 3333 4444,4713,Bob\n'),
  });
  await page.getByRole('button', { name: 'Import CSV' }).click();
  const cells = await page.locator('#row-errors tbody tr').first().locator('td').allTextContents();
  check(cells[0] === '3' && cells[1] === 'caller', 'CSV import: the bad row (line 3) is shown with its field: ' + cells.join(' | '));
  check((await page.locator('table').first().textContent()).includes('None.'), 'CSV import with a bad row wrote nothing');
  await audit('pins-import-error');
  await page.getByLabel(/^CSV file/).setInputFiles({
    name: 'callers.csv', mimeType: 'text/csv',
    buffer: Buffer.from('caller,pin,label,valid_from,valid_until\n0176 1111 2222,4711,Ada,2026-01-01,2099-12-31\n+49 151 3333 4444,4713,Bob,,\n'),
  });
  await page.getByRole('button', { name: 'Import CSV' }).click();
  check((await text('.flash')).includes('Imported. 2 rows'), 'CSV import of a good file');
  await page.getByLabel(/^Search by caller/).fill('0176-1111-2222');
  await page.getByRole('button', { name: 'Search' }).click();
  check((await text('[role=status]')).includes('+4917611112222'), 'PIN search shows the normalisation');
  await audit('pins');
  // Edit the entry: the form holds what the API reads back, so a save
  // that changes only the label goes through.
  await page.getByRole('link', { name: /^Edit/ }).first().click();
  await audit('pins-edit');
  await page.locator('#e-label').fill('Ada L.');
  await Promise.all([page.waitForURL(/\/pins\?q=/), page.getByRole('button', { name: 'Save' }).click()]);
  check((await text('.flash')).includes('Saved.') && (await text('tbody')).includes('Ada L.'), 'PIN table: an edited entry is saved');

  // Set an override.
  await nav('Overview').click();
  await page.locator('#active-hotline').selectOption('false');
  await page.locator('#reason-hotline').fill('staff meeting');
  await page.getByRole('button', { name: 'Set' }).click();
  await page.waitForURL(base + '/');
  check((await page.locator('tbody').first().textContent()).includes('manual override: forced inactive'), 'override set and shown with why');
  await audit('overview');

  // Run the simulator.
  await nav('Simulator').click();
  await page.getByLabel('Caller', { exact: true }).fill('0176 1111 2222');
  await page.getByLabel('Called number').fill('030 901820');
  await page.getByRole('button', { name: 'Explain' }).click();
  check((await text('#trace')).includes('override'), 'simulator shows the trace');
  await audit('simulator');

  // Back to the schedule.
  await nav('Overview').click();
  await page.getByRole('button', { name: /Back to the schedule/ }).click();
  check((await page.locator('tbody').first().textContent()).includes('schedule (active outside the windows)'), 'back to the schedule');

  // Find a call in the log.
  await nav('Call log').click();
  await page.getByLabel('Caller', { exact: true }).fill('0176 9999 0000');
  await page.getByRole('button', { name: 'Filter' }).click();
  check((await text('#calls tbody')).includes('+4917699990000'), 'call log: the call is found by caller');
  await audit('calls');
  await page.getByRole('link', { name: /Details/ }).first().click();
  check((await text('#trace')).length > 0, 'call detail shows the decision trace');
  await audit('call-detail');

  for (const [name, path] of [['lockouts', '/lockouts'], ['prompts', '/prompts'], ['tokens', '/tokens']]) {
    await page.goto(base + path);
    await audit(name);
  }
  // German.
  await page.getByRole('link', { name: 'Deutsch' }).click();
  check((await page.title()).includes('Tokens') && (await page.locator('html').getAttribute('lang')) === 'de', 'switched to German');
  await page.goto(base + '/');
  await audit('overview-de');
  await page.getByRole('link', { name: 'English' }).click();

  // Log out.
  await page.getByRole('button', { name: 'Log out' }).click();
  check((await text('.flash')).includes('Logged out.'), 'logged out');
  await page.goto(base + '/');
  check(page.url() === base + '/login', 'after logout the console asks for a login');
  check(consoleErrors.length === 0, 'no errors in the browser console: ' + consoleErrors.join(' | '));
} catch (err) {
  failures.push(String(err && err.stack || err));
  console.error(err);
  try { await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }); } catch {}
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
console.log('all browser checks passed');
