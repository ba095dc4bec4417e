"""Pick every run of a copick project with tomopick and write the picks back with copick's own API.

    python examples/python/copick_pick.py config.json [--voxel-spacing 10] [--tomo-type wbp]
        [--user tomopick] [--session 0]

Each run's tomogram (the given voxel spacing and type) is read through copick as a numpy array,
picked by ``tomopick.pick`` (the shipped detector unless --model), and each class that matches a
pickable object of the project (by name or PDB id) is stored as that object's picks
(``run.new_picks(...).from_numpy(positions in Å, scores=...)``). Needs copick and zarr.
"""

from __future__ import annotations

import argparse

import copick
import numpy as np
import tomopick


def object_for(classes_of_project: list, class_name: str):
    """The project's pickable object that a tomopick class names (name or PDB id, any case)."""
    key = class_name.lower()
    for obj in classes_of_project:
        if obj.name.lower() == key or (getattr(obj, "pdb_id", None) or "").lower() == key:
            return obj
    return None


def pick_project(config: str, voxel_spacing: float, tomo_type: str, user: str, session: str,
                 model: str | None = None) -> dict:
    """Picks every run; returns {run: {object: count}}."""
    root = copick.from_file(config)
    objects = [o for o in root.pickable_objects if o.is_particle]
    done = {}
    for run in root.runs:
        vs = run.get_voxel_spacing(voxel_spacing)
        tomos = vs.get_tomograms(tomo_type) if vs is not None else []
        tomo = tomos[0] if tomos else None
        if tomo is None:
            print(f"{run.name}: no {tomo_type} tomogram at {voxel_spacing} Å, skipped")
            continue
        volume = np.asarray(tomo.numpy(), dtype=np.float32)  # [z, y, x]
        picks = tomopick.pick(volume, voxel_size=voxel_spacing, model=model, progress=False)
        counts = {}
        for class_name, group in picks.groupby("class"):
            obj = object_for(objects, class_name)
            if obj is None:
                continue
            out = run.new_picks(obj.name, session, user_id=user, exist_ok=True)
            out.from_numpy(group[["x", "y", "z"]].to_numpy(), scores=group["score"].to_numpy())
            out.store()
            counts[obj.name] = len(group)
        done[run.name] = counts
        print(f"{run.name}: {sum(counts.values())} picks ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    return done


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("--voxel-spacing", type=float, default=10.0)
    p.add_argument("--tomo-type", default="wbp")
    p.add_argument("--user", default="tomopick")
    p.add_argument("--session", default="0")
    p.add_argument("--model")
    a = p.parse_args()
    pick_project(a.config, a.voxel_spacing, a.tomo_type, a.user, a.session, a.model)


if __name__ == "__main__":
    main()
