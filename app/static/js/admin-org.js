// Group members editor: "Add" puts the typed user name on a new line of the members list (the server
// checks every name when the form is saved; without JavaScript the list is edited by hand).
"use strict";
document.querySelectorAll(".add-member-button").forEach((button) => {
  const input = document.getElementById(button.dataset.input);
  const target = document.getElementById(button.dataset.target);
  const add = () => {
    const name = input.value.trim();
    if (!name) return;
    const names = target.value.split(/[\n,]/).map((n) => n.trim()).filter(Boolean);
    if (!names.includes(name)) names.push(name);
    target.value = names.join("\n");
    input.value = "";
    input.focus();
  };
  button.addEventListener("click", add);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); add(); }
  });
});
