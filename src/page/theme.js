// The theme before the first paint (a classic script in the head, so that
// a dark page never flashes white): the saved choice, else the system's.
(() => {
  let t = 'auto';
  try { t = localStorage.getItem('wstail.theme') || 'auto'; } catch (e) { /* ignore */ }
  const dark = t === 'dark' || (t !== 'light' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
})();
