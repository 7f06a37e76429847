// The playground's browser side: draws the thread from the live stream (Server-Sent Events), sends messages, files
// and button presses. Invariant: the DOM is built from text nodes and a few fixed elements only (never innerHTML), so
// any text from a person, a model or a file shows as text; links are http(s) only and open in a new tab.
(function () {
  'use strict';
  const root = document.getElementById('playground');
  if (!root) return;
  const threadId = root.dataset.thread;
  const csrf = root.dataset.csrf;
  const list = document.getElementById('pg-messages');
  const status = document.getElementById('pg-status');
  const form = document.getElementById('pg-composer');
  const text = document.getElementById('pg-text');
  const maxUpload = Number(root.dataset.maxUpload || 0);

  const el = (tag, cls, txt) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined) e.textContent = txt;
    return e;
  };
  const say = (msg) => { status.textContent = msg || ''; };

  // Inline marks of the views' markdown: `code`, *bold* / **bold**, _italic_, <url|label>, bare http(s) links.
  const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|((?<![\w*])\*[^*\n]+?\*(?![\w*]))|((?<![\w])_[^\n]+?_(?![\w]))|(<https?:\/\/[^|>\s]+(?:\|[^>\n]+)?>)|(https?:\/\/[^\s<>]+)/g;
  function link(href, label) {
    let url;
    try { url = new URL(href); } catch { return document.createTextNode(label); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return document.createTextNode(label);
    const a = el('a', '', label);
    a.href = url.href;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    return a;
  }
  function inline(s, parent) {
    let last = 0;
    for (const m of s.matchAll(INLINE)) {
      if (m.index > last) parent.append(document.createTextNode(s.slice(last, m.index)));
      const t = m[0];
      if (m[1]) parent.append(el('code', '', t.slice(1, -1)));
      else if (m[2]) inline(t.slice(2, -2), parent.appendChild(el('strong')));
      else if (m[3]) inline(t.slice(1, -1), parent.appendChild(el('strong')));
      else if (m[4]) inline(t.slice(1, -1), parent.appendChild(el('em')));
      else if (m[5]) { const [href, label] = t.slice(1, -1).split('|'); parent.append(link(href, label || href)); }
      else parent.append(link(t, t));
      last = m.index + t.length;
    }
    if (last < s.length) parent.append(document.createTextNode(s.slice(last)));
  }
  function render(textValue, parent) {
    const lines = textValue.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith('```')) {
        const code = [];
        for (i++; i < lines.length && !lines[i].startsWith('```'); i++) code.push(lines[i]);
        parent.append(el('pre', 'pg-code', code.join('\n')));
        continue;
      }
      if (line.startsWith('> ') || line === '>') { inline(line.slice(2), parent.appendChild(el('blockquote'))); continue; }
      const heading = /^#{1,4} (.*)$/.exec(line);
      if (heading) { inline(heading[1], parent.appendChild(el('div', 'pg-line pg-heading'))); continue; }
      if (!line.trim()) { parent.append(el('div', 'pg-gap')); continue; }
      const div = el('div', 'pg-line');
      const indent = /^\s*/.exec(line)[0].length;
      if (indent) div.style.paddingLeft = `${Math.min(indent, 12) * 0.5}em`;
      inline(line.trim(), div);
      parent.append(div);
    }
  }

  const pressed = new Set();
  async function press(m, a, feedback) {
    const res = await fetch(`/admin/api/playground/threads/${threadId}/actions`, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ action: a.id, value: a.value, ...(feedback ? { feedback } : {}) }),
    });
    if (!res.ok) { say(`That did not go through (${res.status}). Reload the page and try again.`); pressed.delete(m.id + a.id); return; }
    say('Received: the thread shows the result in a moment.');
  }
  function actionsOf(m) {
    const row = el('div', 'pg-actions');
    for (const a of m.actions) {
      const b = el('button', `pg-action${a.style ? ` ${a.style}` : ''}`, a.label);
      b.type = 'button';
      b.dataset.action = a.id;
      b.addEventListener('click', () => {
        if (a.id === 'request_changes') return askFeedback(m, a, row);
        if (pressed.has(m.id + a.id)) return;
        pressed.add(m.id + a.id);
        row.querySelectorAll('button').forEach((x) => { x.disabled = true; });
        press(m, a);
      });
      row.append(b);
    }
    return row;
  }
  function askFeedback(m, a, row) {
    if (row.querySelector('.pg-feedback')) return;
    const box = el('form', 'pg-feedback');
    const area = el('textarea');
    area.name = 'feedback';
    area.required = true;
    area.maxLength = 3000;
    area.placeholder = 'What should change?';
    const send = el('button', 'primary', 'Send feedback');
    send.type = 'submit';
    box.append(area, send);
    box.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!area.value.trim()) return;
      row.querySelectorAll('button').forEach((x) => { x.disabled = true; });
      press(m, a, area.value.trim());
      box.remove();
    });
    row.after(box);
    area.focus();
  }
  function draw(m) {
    const li = el('li', `pg-msg${m.person ? ' person' : ''}${m.mine ? ' mine' : ''}${m.onlyMe ? ' only-me' : ''}`);
    li.dataset.id = m.id;
    li.dataset.seq = String(m.seq);
    li.dataset.version = String(m.version);
    li.append(el('span', 'pg-avatar', m.author.avatar));
    const body = el('div', 'pg-body');
    const head = el('div', 'pg-head');
    head.append(el('strong', 'pg-name', m.author.name));
    if (!m.person) head.append(el('span', 'pg-app', 'APP'));
    head.append(el('time', 'pg-time', new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
    if (m.onlyMe) head.append(el('span', 'pg-only', 'only you see this'));
    body.append(head);
    const textBox = el('div', 'pg-text');
    render(m.text, textBox);
    body.append(textBox);
    if (m.files.length) {
      const files = el('ul', 'pg-files');
      for (const f of m.files) files.append(el('li', '', `📎 ${f.name} (${f.bytes < 1024 ? `${f.bytes} B` : `${Math.round(f.bytes / 1024)} KB`})`));
      body.append(files);
    }
    if (m.context) body.append(el('div', 'pg-context', m.context));
    if (m.actions.length) body.append(actionsOf(m));
    li.append(body);
    return li;
  }
  function upsert(m) {
    const old = list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
    const li = draw(m);
    if (old) { old.replaceWith(li); return; }
    const after = [...list.children].find((x) => Number(x.dataset.seq) > m.seq);
    list.insertBefore(li, after || null);
    li.scrollIntoView({ block: 'nearest' });
  }

  if (threadId) {
    const source = new EventSource(`/admin/api/playground/threads/${threadId}/events`);
    source.addEventListener('message', (ev) => upsert(JSON.parse(ev.data)));
    source.addEventListener('ready', () => { document.body.dataset.threadReady = 'true'; });
    source.addEventListener('gone', () => { say('This thread was deleted.'); source.close(); });
  }

  document.querySelectorAll('.pg-example').forEach((b) => b.addEventListener('click', () => { text.value = b.dataset.text; text.focus(); }));
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.metaKey || ev.ctrlKey)) form.requestSubmit();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const file = data.get('file');
    if (file && file.size > maxUpload) { say(`That file is too large here (at most ${Math.floor(maxUpload / 1024)} KB).`); return; }
    if (file && !file.size) data.delete('file');
    const button = document.getElementById('pg-submit');
    button.disabled = true;
    say('Sending…');
    try {
      const res = await fetch(form.action, { method: 'POST', body: data, credentials: 'same-origin', headers: { 'x-csrf-token': csrf } });
      const answer = await res.json().catch(() => ({}));
      if (!res.ok) { say(answer.message || `Not sent (${res.status}).`); return; }
      if (!threadId) { location.assign(`/admin/playground?thread=${encodeURIComponent(answer.threadId)}`); return; }
      form.reset();
      say('');
    } finally {
      button.disabled = false;
    }
  });
})();
