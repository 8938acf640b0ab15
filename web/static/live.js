// Follows a live box score (or a season page while a game is live) without reloading the page.
// The page names its event stream in <meta name="boxscore-events">; on each new version the
// server pushes, the page's <main> is replaced by the page as it now renders (one conditional
// request, answered from the page process's copy). A final page names no stream: the stream is
// closed, and the page says so in <html data-following>.
//
// The stream is closed when the page is left (pagehide) and opened again if the browser shows
// it from its back/forward cache: a page kept there with its stream open would hold one of the
// six connections a browser allows a site, and a fan's seventh page would wait for a free one.
(() => {
  const named = document.querySelector('meta[name="boxscore-events"]');
  if (!named) return;
  const root = document.documentElement;
  let events = null;
  let updating = Promise.resolve();

  async function update() {
    const answer = await fetch(location.href, { cache: "no-cache", headers: { Accept: "text/html" } });
    if (!answer.ok) return;
    const next = new DOMParser().parseFromString(await answer.text(), "text/html");
    document.querySelector("main").replaceWith(document.adoptNode(next.querySelector("main")));
    document.title = next.title;
    if (!next.querySelector('meta[name="boxscore-events"]')) {
      stop();
      root.dataset.following = "no";
    }
  }

  function follow() {
    events = new EventSource(named.content);
    root.dataset.following = "yes";
    for (const kind of ["boxscore", "season"]) {
      events.addEventListener(kind, () => {
        updating = updating.then(update).catch(() => {});
      });
    }
  }

  function stop() {
    if (events) events.close();
    events = null;
  }

  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", (shown) => {
    if (shown.persisted && root.dataset.following === "yes") follow();
  });
  follow();
})();
