/**
 * Form helpers shared by the page's tabs (no core imports: this is page code).
 *
 * `fieldMaker(prefix)` returns `field(parent, label, help, control)`: a labelled control with its one-line
 * help (aria-describedby), appended to `parent`; ids are `prefix` + a counter, so two tabs never collide.
 */
export type FieldFn = (
  parent: HTMLElement,
  label: string,
  help: string,
  control: HTMLElement,
) => HTMLDivElement;

export function fieldMaker(prefix: string): FieldFn {
  let count = 0;
  return (parent, label, help, control) => {
    const id = `${prefix}${count++}`;
    const div = document.createElement("div");
    div.className = "field";
    const lab = document.createElement("label");
    lab.htmlFor = id;
    lab.textContent = label;
    control.id = id;
    const small = document.createElement("small");
    small.className = "help";
    small.id = `${id}-help`;
    small.textContent = help;
    control.setAttribute("aria-describedby", small.id);
    div.append(lab, control, small);
    parent.append(div);
    return div;
  };
}
