"""A first check that the engine learns: the article's teacher learned by a larger student."""

from app.nn.datasets import DatasetSpec, make_dataset
from app.nn.trainer import Trainer, TrainingConfig


def test_student_learns_the_teacher() -> None:
    data = make_dataset(DatasetSpec(kind="teacher", layers=(2, 3, 1), samples=200, seed=1))
    trainer = Trainer(TrainingConfig(layers=(2, 4, 4, 1), activations=("sigmoid",) * 3), data)
    start = trainer.train_loss()
    for _ in range(2000):
        trainer.update()
    assert trainer.step == 2000
    assert trainer.train_loss() < start / 10
