// The "try it" page: choose or drop an image or give its URL, POST /caption, show the answer or
// the problem.
// Plain browser JavaScript served as a file (no build step, no inline code, so the page's
// Content-Security-Policy can forbid inline scripts). The decoding options, their ranges and
// defaults come from the service's own OpenAPI document, so new options and DEFAULT_NUM_BEAMS
// show up here without touching this file. One file of about 390 lines, in sections, rather
// than modules: the page then needs no bundler and no load-order rules.
'use strict';

(() => {
  /** 429 answers retried automatically, each after its Retry-After (capped). */
  const BUSY_RETRIES = 3;
  const MAX_WAIT_SECONDS = 60;

  const $ = (id) => document.getElementById(id);
  const form = $('caption-form');
  const input = $('image');
  const urlInput = $('image-url');
  const dropZone = $('drop-zone');
  const preview = $('preview');
  const previewImage = $('preview-image');
  const submit = $('submit');
  const cancel = $('cancel');
  const status = $('status');
  const errorBox = $('error');
  const result = $('result');

  /** name -> { schema, control, field } for each decoding option the service documents. */
  const options = new Map();
  let inFlight = null;
  let previewUrl = null;

  input.addEventListener('change', () => {
    // One source at a time: the last one the person gave.
    if (input.files[0]) urlInput.value = '';
    showPreview(input.files[0]);
  });
  urlInput.addEventListener('input', () => {
    if (urlInput.value.trim() === '' || input.files.length === 0) return;
    input.value = '';
    showPreview(undefined);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void captionChosenImage();
  });
  cancel.addEventListener('click', () => inFlight && inFlight.abort());
  bindDropZone();
  void loadOptions();

  // ---- image choice and preview ----

  function bindDropZone() {
    const stop = (event) => {
      event.preventDefault();
      event.stopPropagation();
    };
    dropZone.addEventListener('dragenter', (e) => {
      stop(e);
      dropZone.classList.add('dragging');
    });
    dropZone.addEventListener('dragover', stop);
    dropZone.addEventListener('dragleave', (e) => {
      stop(e);
      dropZone.classList.remove('dragging');
    });
    dropZone.addEventListener('drop', (e) => {
      stop(e);
      dropZone.classList.remove('dragging');
      const files = e.dataTransfer && e.dataTransfer.files;
      if (!files || files.length === 0) return;
      // The file input stays the one source of the chosen image.
      const chosen = new DataTransfer();
      chosen.items.add(files[0]);
      input.files = chosen.files;
      urlInput.value = '';
      showPreview(files[0]);
    });
  }

  function showPreview(file) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    result.hidden = true;
    hideError();
    if (!file) {
      preview.hidden = true;
      return;
    }
    previewUrl = URL.createObjectURL(file);
    previewImage.src = previewUrl;
    previewImage.alt = `Preview of ${file.name}`;
    $('preview-name').textContent = `${file.name} (${formatBytes(file.size)})`;
    preview.hidden = false;
  }

  // ---- decoding options, from the OpenAPI document ----

  async function loadOptions() {
    const note = $('options-note');
    try {
      const response = await fetch('/docs-json');
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const documented = await response.json();
      const schema = documented.components.schemas.CaptionOptionsDto.properties;
      for (const [name, property] of Object.entries(schema)) addOption(name, property);
      note.textContent =
        'Each field starts at the service default; only the ones you change are sent.';
      updateBeamOnly();
    } catch {
      note.textContent = "The service's options could not be read; captions use its defaults.";
    }
  }

  function addOption(name, schema) {
    const id = `option-${name}`;
    const field = document.createElement('div');
    field.className = 'field';
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = name;
    let control;
    const choices = choicesOf(schema);
    if (choices) {
      control = document.createElement('select');
      for (const value of choices) control.append(new Option(value, value));
    } else {
      control = document.createElement('input');
      control.type = 'number';
      if (schema.minimum !== undefined) control.min = String(schema.minimum);
      if (schema.maximum !== undefined) control.max = String(schema.maximum);
      control.step = schema.type === 'integer' ? '1' : 'any';
    }
    control.id = id;
    control.name = name;
    const fallback = schema.default === undefined ? '' : String(schema.default);
    control.value = fallback;
    const help = document.createElement('p');
    help.className = 'hint';
    help.id = `${id}-help`;
    const range =
      schema.minimum !== undefined ? ` Range ${schema.minimum} to ${schema.maximum}.` : '';
    const byDefault = fallback === '' ? '' : ` Default ${fallback}.`;
    const beams = schema['x-beam-search-only'] ? ' Beam search only (num_beams above 1).' : '';
    help.textContent = `${schema.description || ''}${range}${byDefault}${beams}`;
    control.setAttribute('aria-describedby', help.id);
    field.append(label, control, help);
    $('option-fields').append(field);
    options.set(name, { schema, control, field, fallback });
    if (name === 'num_beams') control.addEventListener('input', updateBeamOnly);
  }

  /**
   * The values of an option that has a fixed set (an enum, a boolean, or a oneOf of those, as
   * early_stopping's `true | false | "never"`), as text; null for a number.
   */
  function choicesOf(schema) {
    if (schema.enum) return schema.enum.map(String);
    if (schema.type === 'boolean') return ['true', 'false'];
    if (!Array.isArray(schema.oneOf)) return null;
    const each = schema.oneOf.map(choicesOf);
    return each.every(Boolean) ? each.flat() : null;
  }

  /** Beam-only options are shown (and sent) only when beams > 1, as the service requires. */
  function updateBeamOnly() {
    const beams = options.get('num_beams');
    const count = beams ? Number(beams.control.value || beams.fallback || 1) : 1;
    for (const { schema, control, field } of options.values()) {
      if (!schema['x-beam-search-only']) continue;
      field.hidden = count <= 1;
      control.disabled = count <= 1;
    }
  }

  /** The options the person changed from the service's defaults. */
  function chosenOptions() {
    const chosen = {};
    for (const [name, { control, fallback }] of options) {
      if (control.disabled || control.value === '' || control.value === fallback) continue;
      chosen[name] = control.value;
    }
    return chosen;
  }

  // ---- captioning ----

  /**
   * One request for one image source: a chosen file as multipart (field `file`, options as form
   * fields), or a URL as JSON {"url": ...} with the options as typed members beside it. The
   * page never loads the URL itself (its CSP allows no remote images): the service fetches it.
   */
  function send(source, chosen, signal) {
    const headers = { Accept: 'application/json' };
    if (source.kind === 'url') {
      const body = { url: source.url };
      for (const [name, value] of Object.entries(chosen)) body[name] = typedValue(name, value);
      return fetch('/caption', {
        method: 'POST',
        body: JSON.stringify(body),
        signal,
        headers: { ...headers, 'Content-Type': 'application/json' },
      });
    }
    const body = new FormData();
    body.append('file', source.file, source.file.name);
    for (const [name, value] of Object.entries(chosen)) body.append(name, value);
    return fetch('/caption', { method: 'POST', body, signal, headers });
  }

  /** A form control's text as the JSON type the option's schema gives. */
  function typedValue(name, text) {
    const { schema } = options.get(name);
    if (schema.type === 'integer' || schema.type === 'number') return Number(text);
    if (text === 'true' || text === 'false') return text === 'true';
    return text;
  }

  /** The image to caption: the chosen file, or else the URL typed; null when neither. */
  function chosenSource() {
    const file = input.files[0];
    if (file) return { kind: 'file', file };
    const url = urlInput.value.trim();
    return url ? { kind: 'url', url } : null;
  }

  async function captionChosenImage() {
    const source = chosenSource();
    hideError();
    if (!source) {
      showError('Choose an image or give its URL first.');
      input.focus();
      return;
    }
    if (source.kind === 'url' && !urlInput.checkValidity()) {
      showError('The image URL is not a valid address (http:// or https://…).');
      urlInput.focus();
      return;
    }
    result.hidden = true;
    inFlight = new AbortController();
    setBusy(true);
    try {
      const chosen = chosenOptions();
      for (let busy = 0; ; busy++) {
        setStatus('Captioning…');
        const response = await send(source, chosen, inFlight.signal);
        if (response.ok) {
          showResult(await response.json());
          setStatus('Done.');
          return;
        }
        const problem = await readProblem(response);
        if (response.status === 429 && busy < BUSY_RETRIES) {
          const seconds = retryAfterSeconds(response.headers.get('Retry-After'));
          await countDown(seconds, inFlight.signal);
          continue;
        }
        setStatus('');
        showError(describe(problem, response.status));
        return;
      }
    } catch (error) {
      setStatus('');
      if (error && error.name === 'AbortError') setStatus('Cancelled.');
      else showError('The service could not be reached. Check that it is running, then try again.');
    } finally {
      inFlight = null;
      setBusy(false);
    }
  }

  async function countDown(seconds, signal) {
    for (let left = seconds; left > 0; left--) {
      setStatus(`The service is busy; retrying in ${left} s.`);
      await sleep(1000, signal);
    }
  }

  function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new DOMException('Cancelled', 'AbortError'));
      });
    });
  }

  function retryAfterSeconds(header) {
    const seconds = /^\d+$/.test(header || '') ? Number(header) : 1;
    return Math.min(MAX_WAIT_SECONDS, Math.max(1, seconds));
  }

  async function readProblem(response) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }

  /** A person-readable message from an RFC 9457 problem body. */
  function describe(problem, statusCode) {
    if (!problem || typeof problem !== 'object') {
      return `The service answered ${statusCode} without an explanation.`;
    }
    const parts = [problem.title, problem.detail].filter(Boolean);
    let text = parts.join(': ');
    if (!/[.!?]$/.test(text)) text += '.';
    if (statusCode === 429) text += ' The service stayed busy; try again in a little while.';
    return text;
  }

  // ---- showing the answer ----

  function showResult(answer) {
    $('caption').textContent = answer.caption;
    previewImage.alt = answer.caption;
    const confidence = $('confidence');
    confidence.hidden = typeof answer.confidence !== 'number';
    if (!confidence.hidden)
      confidence.textContent = `Confidence: ${formatScore(answer.confidence)}`;
    const ranked = Array.isArray(answer.captions) ? answer.captions : [];
    $('alternatives').hidden = ranked.length < 2;
    const list = $('alternative-list');
    list.replaceChildren(
      ...ranked.map((c) => {
        const item = document.createElement('li');
        item.textContent =
          typeof c.confidence === 'number'
            ? `${c.caption} (confidence ${formatScore(c.confidence)})`
            : c.caption;
        return item;
      }),
    );
    fillList($('decoding'), answer.decoding || {}, (v) => String(v));
    const timings = { ...(answer.timings_ms || {}) };
    fillList($('timings'), timings, (v) => `${v} ms`);
    if (answer.cached)
      appendTerm($('timings'), 'cached', 'yes: the same image and options were answered before');
    result.hidden = false;
    $('result-heading').focus();
  }

  function fillList(list, entries, format) {
    list.replaceChildren();
    for (const [name, value] of Object.entries(entries)) appendTerm(list, name, format(value));
  }

  function appendTerm(list, name, value) {
    const term = document.createElement('dt');
    term.textContent = name.replace(/_/g, ' ');
    const detail = document.createElement('dd');
    detail.textContent = value;
    list.append(term, detail);
  }

  // ---- small helpers ----

  function setBusy(busy) {
    submit.disabled = busy;
    cancel.hidden = !busy;
    form.setAttribute('aria-busy', String(busy));
  }

  function setStatus(text) {
    status.textContent = text;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
    errorBox.textContent = '';
  }

  function formatScore(value) {
    return value >= 0 && value <= 1 ? `${(value * 100).toFixed(1)} %` : value.toFixed(3);
  }

  function formatBytes(bytes) {
    return bytes < 1024 * 1024
      ? `${Math.ceil(bytes / 1024)} KB`
      : `${(bytes / 1048576).toFixed(1)} MB`;
  }
})();
