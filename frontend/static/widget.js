/*! mailaudit widget loader. Put on any page:
 *
 *   <script src="https://mailaudit.example/widget.js" data-mailaudit
 *           data-api="https://mailaudit.example" data-accent="#0b7a75"
 *           data-cta-text="Talk to us" data-cta-url="https://consultancy.example/contact"
 *           data-logo="https://consultancy.example/logo.png" async></script>
 *
 * It mounts an iframe of the site's /widget/ page right after the script
 * tag (or inside the element named by data-target): the widget runs
 * isolated from the page, with the site's own wasm. Settings: data-api
 * (origin of a self-hosted mailaudit API), data-title, data-accent,
 * data-bg, data-fg, data-font, data-radius, data-logo, data-cta-text,
 * data-cta-url, data-domain, data-height; or the CSS custom properties
 * --mailaudit-accent, --mailaudit-bg, --mailaudit-fg, --mailaudit-font,
 * --mailaudit-radius on the element that holds the widget. The widget
 * checks every value again before it uses it.
 */
(function () {
  'use strict';
  var ATTRS = {
    api: 'api', title: 'title', accent: 'accent', bg: 'bg', fg: 'fg', font: 'font',
    radius: 'radius', logo: 'logo', cta_text: 'ctaText', cta_url: 'ctaUrl', domain: 'domain'
  };
  var PROPS = { accent: 'accent', bg: 'bg', fg: 'fg', font: 'font', radius: 'radius' };

  function mount(script) {
    if (script.getAttribute('data-mailaudit-mounted')) return;
    script.setAttribute('data-mailaudit-mounted', '1');
    var src = script.src || (document.currentScript && document.currentScript.src) || location.href;
    var base = new URL('widget/', src);
    var holder = null;
    var target = script.getAttribute('data-target');
    if (target) holder = document.querySelector(target);
    var style = holder ? getComputedStyle(holder) : (script.parentElement ? getComputedStyle(script.parentElement) : null);
    var params = new URLSearchParams();
    Object.keys(PROPS).forEach(function (k) {
      var v = style && style.getPropertyValue('--mailaudit-' + PROPS[k]);
      if (v && v.trim()) params.set(k, v.trim());
    });
    Object.keys(ATTRS).forEach(function (k) {
      var v = script.dataset[ATTRS[k]];
      if (v && v.trim()) params.set(k, v.trim());
    });
    var frame = document.createElement('iframe');
    frame.src = base.href + '?' + params.toString();
    frame.title = script.dataset.title || 'mailaudit: check a mail domain';
    frame.setAttribute('data-mailaudit-frame', '');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.setAttribute('loading', 'eager');
    var h = parseInt(script.dataset.height || '', 10);
    frame.style.cssText = 'display:block;width:100%;max-width:40rem;border:0;overflow:hidden;height:'
      + (h > 0 ? h : 240) + 'px;';
    if (holder) holder.appendChild(frame);
    else script.parentNode.insertBefore(frame, script.nextSibling);
    // The widget reports its height; nothing else is read from it.
    window.addEventListener('message', function (e) {
      if (e.source !== frame.contentWindow || e.origin !== base.origin) return;
      var d = e.data;
      if (!d || d.type !== 'mailaudit:height') return;
      var px = Math.max(120, Math.min(4000, Math.ceil(Number(d.height) || 0)));
      frame.style.height = px + 'px';
    });
  }

  function mountAll() {
    var scripts = document.querySelectorAll('script[data-mailaudit]');
    for (var i = 0; i < scripts.length; i++) mount(scripts[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
})();
