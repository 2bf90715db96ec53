// The 3D viewer: a GLB (a part or the assembly) in three.js with orbit controls. Loaded on
// demand, so pages without CAD never download three.js.
import {
  AmbientLight,
  Box3,
  Color,
  DirectionalLight,
  PerspectiveCamera,
  Scene,
  Vector3,
  WebGLRenderer,
} from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

let active: { renderer: WebGLRenderer; controls: OrbitControls; frame: number } | null = null;

function dispose(): void {
  if (!active) return;
  cancelAnimationFrame(active.frame);
  active.controls.dispose();
  active.renderer.dispose();
  active.renderer.domElement.remove();
  active = null;
}

/** Show ``glb`` in ``stage`` (replacing what it showed), framed to its bounding box. */
export async function showGlb(stage: HTMLElement, glb: ArrayBuffer, title: string): Promise<void> {
  const gltf = await new GLTFLoader().parseAsync(glb, "");
  dispose();
  const width = Math.max(stage.clientWidth, 320);
  const height = Math.max(stage.clientHeight, 240);
  const scene = new Scene();
  scene.background = new Color(0xf4f4f7);
  scene.add(new AmbientLight(0xffffff, 1.2));
  const sun = new DirectionalLight(0xffffff, 2.2);
  sun.position.set(1, 2, 3);
  scene.add(sun);
  scene.add(gltf.scene);

  const box = new Box3().setFromObject(gltf.scene);
  const size = box.getSize(new Vector3()).length() || 1;
  const center = box.getCenter(new Vector3());
  const camera = new PerspectiveCamera(45, width / height, size / 100, size * 100);
  camera.position.copy(center).add(new Vector3(size * 0.8, size * 0.6, size * 0.9));
  camera.lookAt(center);

  const renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
  renderer.setSize(width, height);
  renderer.domElement.setAttribute("role", "img");
  renderer.domElement.setAttribute("aria-label", `3D view of ${title}`);
  stage.replaceChildren(renderer.domElement);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.target.copy(center);
  controls.update();
  const tick = (): void => {
    controls.update();
    renderer.render(scene, camera);
    if (active) active.frame = requestAnimationFrame(tick);
  };
  active = { renderer, controls, frame: 0 };
  tick();
}
