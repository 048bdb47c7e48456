/* Item management page: the background jobs list ("Nhận dạng giọng nói: đang chạy 45%") stays current
 * while a job is queued or running. Shows the latest job of each task (item.jobs is oldest first). */
(function () {
  "use strict";

  var hub = window.hub;
  var list = document.getElementById("item-jobs");
  if (!hub || !list) return;

  var POLL_MS = 3000;
  var TASK_ORDER = ["transcode", "transcribe", "burn_in", "broadcast"];
  var url = list.getAttribute("data-api-url");

  function anyActive() {
    return Array.prototype.some.call(list.querySelectorAll("[data-state]"), function (line) {
      return hub.isJobActive({ state: line.getAttribute("data-state") });
    });
  }

  function latestPerTask(jobs) {
    var latest = {};
    var tasks = [];
    (jobs || []).forEach(function (job) {
      if (!job || !job.task) return;
      if (!(job.task in latest)) tasks.push(job.task);
      latest[job.task] = job;
    });
    tasks.sort(function (a, b) {
      var ia = TASK_ORDER.indexOf(a);
      var ib = TASK_ORDER.indexOf(b);
      return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    });
    return tasks.map(function (task) {
      return latest[task];
    });
  }

  function render(jobs) {
    var lines = latestPerTask(jobs).map(function (job) {
      var li = document.createElement("li");
      li.className = "jobs__line";
      li.setAttribute("data-task", job.task);
      li.setAttribute("data-state", job.state);
      var task = document.createElement("span");
      task.className = "jobs__task";
      task.textContent = hub.jobTaskLabel(job.task) + ":";
      var state = document.createElement("span");
      state.className = "jobs__state jobs__state--" + job.state;
      state.setAttribute("data-role", "job-state");
      state.textContent = hub.jobStateText(job);
      li.appendChild(task);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(state);
      return li;
    });
    if (!lines.length) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    lines.forEach(function (li) {
      list.appendChild(li);
    });
  }

  if (!url || !anyActive()) return;
  hub.poll(url, POLL_MS, function (response) {
    var item = response && response.item ? response.item : response;
    if (!item || !Array.isArray(item.jobs)) return true;
    render(item.jobs);
    return anyActive();
  });
})();
