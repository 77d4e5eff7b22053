#include "ui/shot_inspector.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpressionValidator>
#include <QSpinBox>

#include "frameloom/core/edit.h"
#include "frameloom/core/time.h"
#include "frameloom/inference/model_store.h"
#include "ui/project_document.h"

namespace fl::studio {

namespace {
/// Picture sizes offered in the combo; every side is divisible by 16 as the models require.
constexpr int kSizes[][2] = {{64, 64},   {128, 128}, {256, 256}, {320, 192},  {480, 272},
                             {512, 512}, {480, 832}, {832, 480}, {720, 1280}, {1280, 720}};
constexpr const char* kSamplers[] = {"euler", "unipc", "dpm++"};
constexpr const char* kRates[] = {"8", "12", "15", "16", "24000/1001", "24", "25", "30000/1001", "30"};

QString size_text(int w, int h) { return QStringLiteral("%1x%2").arg(w).arg(h); }
}  // namespace

ShotInspector::ShotInspector(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
    setObjectName("shotInspector");
    auto* form = new QFormLayout(this);

    prompt_ = new QPlainTextEdit(this);
    prompt_->setObjectName("prompt");
    prompt_->setPlaceholderText(tr("What happens in the shot"));
    prompt_->setMinimumHeight(80);
    prompt_->setMaximumHeight(200);
    negative_ = new QPlainTextEdit(this);
    negative_->setObjectName("negativePrompt");
    negative_->setPlaceholderText(tr("What to avoid"));
    negative_->setMaximumHeight(70);

    model_ = new QComboBox(this);
    model_->setObjectName("model");
    model_->setToolTip(tr("Models found in the model store (frameloom models lists them)"));
    for (const auto& card : inference::ModelStore(inference::ModelStore::default_roots()).list())
        if (card.missing_files().empty()) model_->addItem(QString::fromStdString(card.id));
    sampler_ = new QComboBox(this);
    sampler_->setObjectName("sampler");
    for (const char* s : kSamplers) sampler_->addItem(QString::fromLatin1(s));

    seed_ = new QLineEdit(this);
    seed_->setObjectName("seed");
    seed_->setValidator(new QRegularExpressionValidator(QRegularExpression("[0-9]{1,19}"), seed_));
    randomise_ = new QPushButton(tr("Randomise"), this);
    randomise_->setObjectName("randomiseSeed");
    auto* seed_row = new QHBoxLayout;
    seed_row->addWidget(seed_, 1);
    seed_row->addWidget(randomise_);

    steps_ = new QSpinBox(this);
    steps_->setObjectName("steps");
    steps_->setRange(1, 1000);
    guidance_ = new QDoubleSpinBox(this);
    guidance_->setObjectName("guidance");
    guidance_->setRange(0.0, 100.0);
    guidance_->setSingleStep(0.5);
    guidance_->setDecimals(2);
    shift_ = new QDoubleSpinBox(this);
    shift_->setObjectName("shift");
    shift_->setRange(0.01, 100.0);
    shift_->setSingleStep(0.5);
    shift_->setDecimals(2);
    size_ = new QComboBox(this);
    size_->setObjectName("size");
    for (const auto& s : kSizes) size_->addItem(size_text(s[0], s[1]), QSize(s[0], s[1]));
    frames_ = new QSpinBox(this);
    frames_->setObjectName("frames");
    frames_->setRange(1, 10000);
    fps_ = new QComboBox(this);
    fps_->setObjectName("fps");
    fps_->setEditable(true);
    for (const char* r : kRates) fps_->addItem(QString::fromLatin1(r));

    form->addRow(tr("Prompt"), prompt_);
    form->addRow(tr("Negative"), negative_);
    form->addRow(tr("Model"), model_);
    form->addRow(tr("Seed"), seed_row);
    form->addRow(tr("Sampler"), sampler_);
    form->addRow(tr("Steps"), steps_);
    form->addRow(tr("Guidance"), guidance_);
    form->addRow(tr("Shift"), shift_);
    form->addRow(tr("Size"), size_);
    form->addRow(tr("Frames"), frames_);
    form->addRow(tr("FPS"), fps_);

    connect(prompt_, &QPlainTextEdit::textChanged, this, &ShotInspector::commit);
    connect(negative_, &QPlainTextEdit::textChanged, this, &ShotInspector::commit);
    connect(seed_, &QLineEdit::editingFinished, this, &ShotInspector::commit);
    connect(randomise_, &QPushButton::clicked, this, &ShotInspector::randomiseSeed);
    connect(model_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(sampler_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(steps_, &QSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(guidance_, &QDoubleSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(shift_, &QDoubleSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(size_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(frames_, &QSpinBox::valueChanged, this, &ShotInspector::commit);
    connect(fps_, &QComboBox::currentIndexChanged, this, &ShotInspector::commit);
    connect(fps_->lineEdit(), &QLineEdit::editingFinished, this, &ShotInspector::commit);
    connect(document_, &ProjectDocument::changed, this, &ShotInspector::refresh);

    set_enabled(false);
}

void ShotInspector::setShot(const std::string& shot_id) {
    shot_id_ = shot_id;
    refresh();
}

void ShotInspector::set_enabled(bool enabled) {
    for (QWidget* w : std::initializer_list<QWidget*>{prompt_, negative_, model_, seed_, randomise_, sampler_, steps_,
                                                      guidance_, shift_, size_, frames_, fps_}) {
        w->setEnabled(enabled);
    }
}

void ShotInspector::refresh() {
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    updating_ = true;
    set_enabled(shot != nullptr);
    if (!shot) {
        prompt_->clear();
        negative_->clear();
        seed_->clear();
        updating_ = false;
        return;
    }
    const core::GenerationParams& p = shot->params;
    const QString prompt = QString::fromStdString(p.prompt);
    if (prompt_->toPlainText() != prompt) prompt_->setPlainText(prompt);
    const QString negative = QString::fromStdString(p.negative_prompt);
    if (negative_->toPlainText() != negative) negative_->setPlainText(negative);
    seed_->setText(QString::number(p.seed));
    // A shot may name a model by alias ("default") or one that is not installed: show it as written.
    const QString model = QString::fromStdString(p.model);
    if (model_->findText(model) < 0) model_->addItem(model);
    model_->setCurrentIndex(model_->findText(model));
    const QString sampler = QString::fromStdString(p.sampler);
    if (sampler_->findText(sampler) < 0) sampler_->addItem(sampler);
    sampler_->setCurrentIndex(sampler_->findText(sampler));
    steps_->setValue(p.steps);
    guidance_->setValue(p.guidance);
    shift_->setValue(p.shift);
    int size_index = size_->findData(QSize(p.width, p.height));
    if (size_index < 0) {
        size_->addItem(size_text(p.width, p.height), QSize(p.width, p.height));
        size_index = size_->count() - 1;
    }
    size_->setCurrentIndex(size_index);
    frames_->setValue(p.frames);
    const QString rate = QString::fromStdString(core::to_string(p.fps));
    int rate_index = fps_->findText(rate);
    if (rate_index < 0) {
        fps_->addItem(rate);
        rate_index = fps_->count() - 1;
    }
    fps_->setCurrentIndex(rate_index);
    updating_ = false;
}

void ShotInspector::randomiseSeed() {
    if (shot_id_.empty()) return;
    // Seeds stay below 2^53 so they survive any JSON reader as exact integers.
    const quint64 seed = QRandomGenerator::global()->generate64() & ((quint64{1} << 53) - 1);
    seed_->setText(QString::number(seed));
    commit();
}

void ShotInspector::commit() {
    if (updating_) return;
    const core::Shot* shot = document_->project().find_shot(shot_id_);
    if (!shot) return;
    core::GenerationParams p = shot->params;
    p.prompt = prompt_->toPlainText().toStdString();
    p.negative_prompt = negative_->toPlainText().toStdString();
    bool seed_ok = false;
    const quint64 seed = seed_->text().toULongLong(&seed_ok);
    if (seed_ok) p.seed = seed;
    if (!model_->currentText().isEmpty()) p.model = model_->currentText().toStdString();
    if (!sampler_->currentText().isEmpty()) p.sampler = sampler_->currentText().toStdString();
    p.steps = steps_->value();
    p.guidance = guidance_->value();
    p.shift = shift_->value();
    const QSize size = size_->currentData().toSize();
    if (size.isValid()) {
        p.width = size.width();
        p.height = size.height();
    }
    p.frames = frames_->value();
    auto rate = core::parse_frame_rate(fps_->currentText().trimmed().toStdString());
    if (rate) {
        p.fps = *rate;
    } else {
        emit editFailed(QString::fromStdString(rate.message()));
    }
    if (p == shot->params) return;
    auto result = document_->push(core::make_set_shot_params(shot_id_, std::move(p), /*merge=*/true));
    if (!result) {
        emit editFailed(QString::fromStdString(result.message()));
        refresh();
    }
}

}  // namespace fl::studio
