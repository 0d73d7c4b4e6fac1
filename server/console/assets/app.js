// facekit console: a dependency-free single page over /console/api/.
// The access token lives in sessionStorage only (gone when the tab closes).
'use strict';

const $ = (id) => document.getElementById(id);
const COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#469990', '#9a6324'];
const THRESHOLDS = { baidu: 80, linkface: 0.7, tencent: 75 };

let token = sessionStorage.getItem('facekit.token') || '';
let currentGroup = '';
const blobURLs = [];

// ---------- HTTP ----------

class APIError extends Error {
  constructor(status, body) {
    super((body && body.error) || ('HTTP ' + status));
    this.status = status;
    this.code = body && body.code;
  }
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: 'Bearer ' + token } };
  if (body instanceof FormData) {
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch('/console/api' + path, opts);
  if (resp.status === 401) {
    signOut('Your session ended; sign in again.');
  }
  if (resp.status === 204) return null;
  const ct = resp.headers.get('Content-Type') || '';
  const data = ct.startsWith('application/json') ? await resp.json() : await resp.blob();
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

// busy disables a form's buttons while fn runs and shows its error.
async function busy(form, errorEl, fn) {
  const buttons = form ? form.querySelectorAll('button') : [];
  buttons.forEach((b) => { b.disabled = true; });
  errorEl.textContent = '';
  try {
    await fn();
  } catch (e) {
    errorEl.textContent = e.message;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---------- sign in ----------

async function signIn(apiKey, secret) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: apiKey, client_secret: secret });
  const resp = await fetch('/oauth/2.0/token', { method: 'POST', body: form });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok || !data.access_token) {
    throw new Error(data.error_description || data.error || 'sign-in failed');
  }
  token = data.access_token;
  sessionStorage.setItem('facekit.token', token);
  await showApp();
}

function signOut(message) {
  token = '';
  sessionStorage.removeItem('facekit.token');
  $('signin').hidden = false;
  $('tabs').hidden = true;
  $('who').hidden = true;
  document.querySelectorAll('.tab').forEach((t) => { t.hidden = true; });
  $('signin-error').textContent = message || '';
}

async function showApp() {
  const me = await api('GET', '/whoami');
  $('who-name').textContent = me.name + ' (' + me.app_id + ')';
  $('signin').hidden = true;
  $('tabs').hidden = false;
  $('who').hidden = false;
  showTab('detect');
}

function showTab(name) {
  document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === name));
  document.querySelectorAll('.tab').forEach((t) => { t.hidden = t.id !== 'tab-' + name; });
  if (name === 'library') loadGroups().catch((e) => { $('group-error').textContent = e.message; });
  if (name === 'search') fillGroupSelect().catch((e) => { $('search-error').textContent = e.message; });
}

// ---------- drawing ----------

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('the browser cannot show this image'));
    img.src = url;
  });
}

// drawPhoto draws img scaled to at most maxSide and returns the scale.
function drawPhoto(canvas, img, maxSide) {
  const s = Math.min(1, maxSide / Math.max(img.naturalWidth, img.naturalHeight));
  canvas.width = Math.round(img.naturalWidth * s);
  canvas.height = Math.round(img.naturalHeight * s);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return s;
}

function drawBox(ctx, b, s, color, label) {
  ctx.strokeStyle = color;
  ctx.lineWidth = Math.max(2, ctx.canvas.width / 300);
  ctx.strokeRect(b.x * s, b.y * s, b.w * s, b.h * s);
  if (label) {
    const fs = Math.max(12, Math.round(ctx.canvas.width / 50));
    ctx.font = 'bold ' + fs + 'px sans-serif';
    const w = ctx.measureText(label).width + 8;
    ctx.fillStyle = color;
    ctx.fillRect(b.x * s, b.y * s - fs - 6, w, fs + 6);
    ctx.fillStyle = '#fff';
    ctx.fillText(label, b.x * s + 4, b.y * s - 5);
  }
}

function drawLandmarks(ctx, pts, s, color) {
  ctx.fillStyle = color;
  const r = Math.max(1.5, ctx.canvas.width / 400);
  for (const [x, y] of pts) {
    ctx.beginPath();
    ctx.arc(x * s, y * s, r, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// drawPose draws the head's axes at the nose tip: red = the face's
// right-left axis, green = up, blue = the direction the face points.
function drawPose(ctx, face, s) {
  if (!face.landmarks || face.landmarks.length !== 68) return;
  const [nx, ny] = face.landmarks[30];
  const len = face.box.w * 0.6 * s;
  const d = Math.PI / 180;
  const yaw = -face.pose.yaw * d, pitch = face.pose.pitch * d, roll = face.pose.roll * d;
  const ox = nx * s, oy = ny * s;
  const axes = [
    ['#e02424', Math.cos(yaw) * Math.cos(roll), Math.cos(pitch) * Math.sin(roll) + Math.cos(roll) * Math.sin(pitch) * Math.sin(yaw)],
    ['#0e9f6e', -Math.cos(yaw) * Math.sin(roll), Math.cos(pitch) * Math.cos(roll) - Math.sin(pitch) * Math.sin(yaw) * Math.sin(roll)],
    ['#1c64f2', Math.sin(yaw), -Math.cos(yaw) * Math.sin(pitch)],
  ];
  ctx.lineWidth = Math.max(2, ctx.canvas.width / 250);
  for (const [color, x, y] of axes) {
    ctx.strokeStyle = color;
    ctx.beginPath();
    ctx.moveTo(ox, oy);
    // Image y grows downwards; the green axis points up the face.
    ctx.lineTo(ox + x * len, oy + (color === '#0e9f6e' ? -y : y) * len);
    ctx.stroke();
  }
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) e.append(c);
  }
  return e;
}

function fmt(v, digits) {
  return typeof v === 'number' ? v.toFixed(digits) : String(v);
}

// ---------- detect ----------

let lastDetect = null;

async function detect() {
  const file = $('detect-file').files[0];
  if (!file) throw new Error('choose a photo');
  const fd = new FormData();
  fd.append('image', file);
  const [res, img] = await Promise.all([api('POST', '/detect', fd), loadImage(file)]);
  lastDetect = { res, img };
  renderDetect();
}

function renderDetect() {
  if (!lastDetect) return;
  const { res, img } = lastDetect;
  const canvas = $('detect-canvas');
  const s = drawPhoto(canvas, img, 1200);
  const ctx = canvas.getContext('2d');
  const list = $('detect-faces');
  list.replaceChildren(el('p', { class: 'muted', id: 'detect-count' }, res.faces.length + ' face(s), ' + res.width + '×' + res.height + ' px'));
  res.faces.forEach((f, i) => {
    const color = COLORS[i % COLORS.length];
    drawBox(ctx, f.box, s, color, String(i + 1));
    if ($('show-landmarks').checked) drawLandmarks(ctx, f.landmarks, s, color);
    if ($('show-pose').checked) drawPose(ctx, f, s);
    const q = f.quality;
    const rows = [
      ['probability', fmt(f.probability, 3)],
      ['yaw / pitch / roll', fmt(f.pose.yaw, 1) + '° / ' + fmt(f.pose.pitch, 1) + '° / ' + fmt(f.pose.roll, 1) + '°'],
      ['face width', q.face_width + ' px'],
      ['eye distance', fmt(q.eye_distance, 1) + ' px'],
      ['contrast', fmt(q.contrast, 1)],
    ];
    const r = f.quality_report;
    if (r) {
      const occ = Object.entries(r.occlusion).sort((a, b) => b[1] - a[1]);
      rows.push(
        ['quality level', f.quality_level + (f.quality_failures ? ' (next level: ' + f.quality_failures.join('; ') + ')' : '')],
        ['blur', fmt(r.blur, 2) + ' (0 sharp … 1 blurred)'],
        ['illumination', fmt(r.illumination, 0) + ' / 255'],
        ['completeness', r.completeness ? 'inside the image' : 'cut by the border'],
        ['most occluded', occ[0][0].replace('_', ' ') + ' ' + fmt(occ[0][1], 2)],
      );
    } else {
      rows.push(['brightness', fmt(q.brightness, 0) + ' / 255']);
    }
    const a = f.attributes;
    if (a) {
      rows.push(
        ['eyes open (L / R)', fmt(a.eye_status.left_eye, 2) + ' / ' + fmt(a.eye_status.right_eye, 2)],
        ['expression', a.expression.type + ' ' + fmt(a.expression.probability, 2)],
        ['face shape', a.face_shape.type + ' ' + fmt(a.face_shape.probability, 2)],
      );
    }
    rows.push(['landmarks', String(f.landmarks.length)], ['face_token', f.face_token]);
    list.append(el('div', { class: 'face-card', 'data-face': String(i + 1) },
      el('h3', {}, el('span', { class: 'swatch', 'data-color': color }), 'Face ' + (i + 1)),
      el('table', {}, ...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))))));
  });
  // Swatch colours via CSSOM (the page's CSP forbids inline style attributes).
  list.querySelectorAll('.swatch').forEach((sw) => { sw.style.background = sw.dataset.color; });
}

// ---------- compare ----------

function verdict(name, v) {
  const same = v >= THRESHOLDS[name];
  return el('span', { class: same ? 'same' : 'different' }, same ? 'same person' : 'below threshold');
}

async function compare() {
  const a = $('compare-a').files[0], b = $('compare-b').files[0];
  if (!a || !b) throw new Error('choose two photos');
  const fd = new FormData();
  fd.append('a', a);
  fd.append('b', b);
  const [res, ia, ib] = await Promise.all([api('POST', '/compare', fd), loadImage(a), loadImage(b)]);
  for (const [canvas, img, side] of [[$('compare-canvas-a'), ia, res.a], [$('compare-canvas-b'), ib, res.b]]) {
    const s = drawPhoto(canvas, img, 560);
    drawBox(canvas.getContext('2d'), side.box, s, COLORS[2], '');
  }
  const sc = res.scores;
  $('compare-result').replaceChildren(el('table', { class: 'scores', id: 'compare-scores' },
    el('tr', {}, el('th', {}, 'scale'), el('th', {}, 'score'), el('th', {}, 'threshold'), el('th', {}, 'verdict')),
    el('tr', { 'data-scale': 'baidu' }, el('td', {}, 'Baidu (0–100)'), el('td', { class: 'score' }, fmt(sc.baidu, 2)), el('td', {}, '80'), el('td', {}, verdict('baidu', sc.baidu))),
    el('tr', { 'data-scale': 'linkface' }, el('td', {}, 'Linkface (0–1)'), el('td', { class: 'score' }, fmt(sc.linkface, 4)), el('td', {}, '0.7'), el('td', {}, verdict('linkface', sc.linkface))),
    el('tr', { 'data-scale': 'tencent' }, el('td', {}, 'Tencent (0–100)'), el('td', { class: 'score' }, fmt(sc.tencent, 2)), el('td', {}, '75'), el('td', {}, verdict('tencent', sc.tencent))),
    el('tr', {}, el('td', {}, 'descriptor distance'), el('td', {}, fmt(sc.distance, 4)), el('td', {}, ''), el('td', {}, 'false-accept rate ' + sc.far.toExponential(1)))));
}

// ---------- library ----------

function clearBlobs() {
  while (blobURLs.length) URL.revokeObjectURL(blobURLs.pop());
}

async function thumbnail(group, user, faceToken) {
  const path = '/groups/' + encodeURIComponent(group) + '/users/' + encodeURIComponent(user) + '/faces/' + encodeURIComponent(faceToken) + '/thumbnail';
  try {
    const blob = await api('GET', path);
    const url = URL.createObjectURL(blob);
    blobURLs.push(url);
    return el('img', { src: url, alt: user, title: faceToken });
  } catch (e) {
    return el('div', { class: 'thumb-missing', title: 'no thumbnail stored' });
  }
}

async function loadGroups() {
  const res = await api('GET', '/groups?length=1000');
  const ul = $('group-list');
  ul.replaceChildren(...res.groups.map((g) => el('li', {
    class: g === currentGroup ? 'active' : '', 'data-group': g,
    onclick: () => selectGroup(g).catch((e) => { $('user-error').textContent = e.message; }),
  }, el('span', {}, g), el('button', {
    class: 'danger', title: 'delete group',
    onclick: (ev) => {
      ev.stopPropagation();
      if (!confirm('Delete group ' + g + ' with all its users and faces?')) return;
      busy(null, $('group-error'), async () => {
        await api('DELETE', '/groups/' + encodeURIComponent(g));
        if (currentGroup === g) { currentGroup = ''; renderUsers(null); }
        await loadGroups();
      });
    },
  }, 'delete'))));
  if (!res.groups.length) ul.append(el('li', { class: 'muted' }, 'No groups yet.'));
  return res.groups;
}

async function selectGroup(g) {
  currentGroup = g;
  document.querySelectorAll('#group-list li').forEach((li) => li.classList.toggle('active', li.dataset.group === g));
  const res = await api('GET', '/groups/' + encodeURIComponent(g) + '/users?length=1000');
  await renderUsers(res);
}

async function renderUsers(res) {
  clearBlobs();
  const list = $('user-list');
  $('user-form').hidden = !res;
  $('users-hint').hidden = !!res;
  $('users-title').textContent = res ? 'Users of ' + res.group_id : 'Users';
  if (!res) { list.replaceChildren(); return; }
  const blocks = await Promise.all(res.users.map(async (u) => {
    const faces = await Promise.all(u.faces.map(async (f) => el('div', { class: 'face', 'data-face-token': f.face_token },
      await thumbnail(res.group_id, u.user_id, f.face_token),
      el('button', {
        class: 'danger', title: 'delete this face',
        onclick: () => busy(null, $('user-error'), async () => {
          await api('DELETE', '/groups/' + encodeURIComponent(res.group_id) + '/users/' + encodeURIComponent(u.user_id) + '/faces/' + encodeURIComponent(f.face_token));
          await selectGroup(res.group_id);
        }),
      }, 'delete'))));
    const addInput = el('input', { type: 'file', accept: 'image/*', 'data-add-face': u.user_id });
    addInput.addEventListener('change', () => busy(null, $('user-error'), async () => {
      const fd = new FormData();
      fd.append('image', addInput.files[0]);
      await api('POST', '/groups/' + encodeURIComponent(res.group_id) + '/users/' + encodeURIComponent(u.user_id) + '/faces', fd);
      await selectGroup(res.group_id);
    }));
    return el('div', { class: 'user', 'data-user': u.user_id },
      el('div', { class: 'user-head' }, el('strong', {}, u.user_id), el('span', { class: 'muted' }, u.user_info || ''),
        el('span', { class: 'muted' }, u.faces.length + ' face(s)'),
        el('button', {
          class: 'danger', title: 'delete user',
          onclick: () => {
            if (!confirm('Delete user ' + u.user_id + '?')) return;
            busy(null, $('user-error'), async () => {
              await api('DELETE', '/groups/' + encodeURIComponent(res.group_id) + '/users/' + encodeURIComponent(u.user_id));
              await selectGroup(res.group_id);
            });
          },
        }, 'delete user')),
      el('div', { class: 'faces' }, ...faces, el('label', { class: 'add-face' }, 'add a face', addInput)));
  }));
  list.replaceChildren(...blocks);
  if (!res.users.length) list.append(el('p', { class: 'muted' }, 'No users in this group yet.'));
}

async function addUser() {
  if (!currentGroup) throw new Error('choose a group');
  const fd = new FormData();
  fd.append('user_id', $('user-id').value.trim());
  fd.append('user_info', $('user-info').value);
  fd.append('image', $('user-photo').files[0]);
  await api('POST', '/groups/' + encodeURIComponent(currentGroup) + '/users', fd);
  $('user-form').reset();
  await selectGroup(currentGroup);
}

// ---------- search ----------

async function fillGroupSelect() {
  const res = await api('GET', '/groups?length=1000');
  const sel = $('search-group');
  const keep = sel.value || currentGroup;
  sel.replaceChildren(...res.groups.map((g) => el('option', { value: g }, g)));
  if (res.groups.includes(keep)) sel.value = keep;
}

async function search() {
  const file = $('search-file').files[0];
  const group = $('search-group').value;
  if (!group) throw new Error('no group to search; add one in Library');
  if (!file) throw new Error('choose a photo');
  const fd = new FormData();
  fd.append('image', file);
  const [res, img] = await Promise.all([api('POST', '/groups/' + encodeURIComponent(group) + '/search', fd), loadImage(file)]);
  const canvas = $('search-canvas');
  const s = drawPhoto(canvas, img, 700);
  drawBox(canvas.getContext('2d'), res.probe.box, s, COLORS[2], 'probe');
  clearBlobs();
  const items = await Promise.all(res.hits.map(async (h) => el('li', { 'data-user': h.user_id },
    el('div', { class: 'hit' }, await thumbnail(group, h.user_id, h.face_token),
      el('div', {},
        el('div', {}, el('strong', {}, h.user_id), ' ', el('span', { class: 'muted' }, h.user_info || '')),
        el('div', {}, el('span', { class: 'score' }, fmt(h.baidu, 2)), ' Baidu · ', fmt(h.linkface, 4), ' Linkface · ', fmt(h.tencent, 2), ' Tencent'),
        el('div', {}, verdict('baidu', h.baidu), el('span', { class: 'muted' }, ' · distance ' + fmt(h.distance, 4))))))));
  $('search-hits').replaceChildren(...items);
  if (!items.length) $('search-hits').append(el('li', { class: 'muted' }, 'The group has no faces.'));
}

// ---------- wiring ----------

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(ev.target, $('signin-error'), () => signIn($('api-key').value.trim(), $('secret-key').value.trim()));
  });
  $('signout').addEventListener('click', () => signOut(''));
  document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)));
  $('detect-form').addEventListener('submit', (ev) => { ev.preventDefault(); busy(ev.target, $('detect-error'), detect); });
  $('show-landmarks').addEventListener('change', renderDetect);
  $('show-pose').addEventListener('change', renderDetect);
  $('compare-form').addEventListener('submit', (ev) => { ev.preventDefault(); busy(ev.target, $('compare-error'), compare); });
  $('group-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(ev.target, $('group-error'), async () => {
      const g = $('group-id').value.trim();
      await api('POST', '/groups', { group_id: g });
      $('group-form').reset();
      await loadGroups();
      await selectGroup(g);
    });
  });
  $('user-form').addEventListener('submit', (ev) => { ev.preventDefault(); busy(ev.target, $('user-error'), addUser); });
  $('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); busy(ev.target, $('search-error'), search); });
  if (token) {
    showApp().catch(() => signOut(''));
  }
});
