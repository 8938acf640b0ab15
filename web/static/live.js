// Follows a live box score (or a season page while a game is live) without reloading the page. The page names its event stream in
// <meta name="boxscore-events">; on each new box score the server pushes, the page's <main>
// is replaced by the page as it now renders (one conditional request, answered from the page
// process's copy). A final page names no stream: the stream is closed, and the page says so in
// <html data-following>.
(() => {
  const named = document.querySelector('meta[name="boxscore-events"]');
  if (!named) return;
  const events = new EventSource(named.content);
  const root = document.documentElement;
  root.dataset.following = "yes";
  let updating = Promise.resolve();

  async function update() {
    const answer = await fetch(location.href, { cache: "no-cache", headers: { Accept: "text/html" } });
    if (!answer.ok) return;
    const next = new DOMParser().parseFromString(await answer.text(), "text/html");
    document.querySelector("main").replaceWith(document.adoptNode(next.querySelector("main")));
    document.title = next.title;
    if (!next.querySelector('meta[name="boxscore-events"]')) {
      events.close();
      root.dataset.following = "no";
    }
  }

  for (const kind of ["boxscore", "season"]) {
    events.addEventListener(kind, () => {
      updating = updating.then(update).catch(() => {});
    });
  }
})();
